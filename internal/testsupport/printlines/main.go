// Command printlines writes the lines given as arguments, each to the output its prefix names ("stdout:" or
// "stderr:"), in order and one write each, for tests that need a container to write given text.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "printlines:", err)
		os.Exit(2)
	}
}
