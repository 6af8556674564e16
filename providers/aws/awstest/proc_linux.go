package awstest

import "syscall"

// sysProcAttr asks the kernel to terminate moto_server when the test binary dies, so a
// crashed test run leaves no emulator behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
