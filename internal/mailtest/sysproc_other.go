//go:build !linux

package mailtest

import "syscall"

// sysProcAttr returns the default process attributes.
func sysProcAttr() *syscall.SysProcAttr { return nil }
