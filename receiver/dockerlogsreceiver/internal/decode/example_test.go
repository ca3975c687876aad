package decode_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

func ExampleReader() {
	// body stands for the response to GET /containers/{id}/logs?follow=1&stdout=1&stderr=1&timestamps=1
	// of a container without a TTY.
	body := strings.NewReader(
		frame(1, "2024-05-06T07:08:09.123456789Z listening on :8080\n") +
			frame(2, "2024-05-06T07:08:10.000000001Z warning: disk 91% full\n") +
			frame(1, "2024-05-06T07:08:11.5Z a long line "+"in pieces, "+"") +
			frame(1, "2024-05-06T07:08:11.5Z joined again\n"))

	r := decode.NewReader(body, decode.Options{TTY: false})
	for {
		line, err := r.Next()
		var daemonErr *decode.DaemonError
		switch {
		case err == io.EOF:
			if r.Pending() {
				fmt.Println("stream cut in the middle of a line: read again from its timestamp")
			}
			return
		case errors.As(err, &daemonErr):
			fmt.Println(daemonErr) // the daemon goes on after these
			continue
		case err != nil:
			fmt.Println("error:", err) // reconnect from the last line's timestamp
			return
		}
		// line.Body is only valid until the next call of Next: copy it to keep it.
		ts := time.Unix(0, line.Timestamp).UTC().Format(time.RFC3339Nano)
		fmt.Printf("%s %s %q (%d entries)\n", ts, line.Stream, line.Body, line.Entries)
	}
	// Output:
	// 2024-05-06T07:08:09.123456789Z stdout "listening on :8080" (1 entries)
	// 2024-05-06T07:08:10.000000001Z stderr "warning: disk 91% full" (1 entries)
	// 2024-05-06T07:08:11.5Z stdout "a long line in pieces, joined again" (2 entries)
}

// frame wraps a payload in a multiplexed frame header, as the daemon does for non-TTY containers.
func frame(stream byte, payload string) string {
	hdr := make([]byte, 8)
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
	return string(hdr) + payload
}
