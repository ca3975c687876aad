// Package decode turns the body of a Docker Engine "GET /containers/{id}/logs" response,
// requested with timestamps=1, into whole log lines.
//
// The daemon writes one log entry per write: "<RFC3339Nano timestamp> <content>", where the content
// ends with "\n" unless the entry is a piece of a longer line (16 KiB with json-file, other sizes with
// other drivers), all stamped with the first piece's time, or the last write of a run that had no
// newline. For containers without a TTY each entry is wrapped in an 8-byte stdout/stderr frame header;
// for TTY containers entries are written back to back with no framing. Reader undoes both framings,
// joins the pieces of long lines, and reports every line with the capture time of its first piece.
// Its errors name lengths and offsets, never the container's bytes.
package decode
