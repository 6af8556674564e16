//go:build !linux

package awstest

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: Main stops the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
