//go:build !linux

package miniotest

import "syscall"

// sysProcAttr returns the default process attributes.
func sysProcAttr() *syscall.SysProcAttr { return nil }
