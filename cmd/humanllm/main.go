// Command humanllm turns people's public activity logs into SFT data and
// fine-tunes transformer models on it. Run `humanllm --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "humanllm: interrupted; nothing half-written was left behind")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "humanllm:", err)
		os.Exit(1)
	}
}
