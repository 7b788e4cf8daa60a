package mailtest

import "syscall"

// sysProcAttr makes the kernel kill the server if the test binary dies
// without running its cleanup, e.g. on a test timeout.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
