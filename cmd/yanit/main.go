// Command yanit runs the yanit customer-service runtime: the WhatsApp
// channel, the assistant, the agent inbox and their background jobs.
// Every dependency is built here by hand and passed down (see run.go).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
