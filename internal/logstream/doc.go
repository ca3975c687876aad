// Package logstream turns the body of a Docker Engine "GET /containers/{id}/logs" response,
// requested with timestamps=1, into whole log lines.
//
// The daemon writes one log entry per write: "<RFC3339Nano timestamp> <content>", where the content
// ends with "\n" unless the entry is one 16 KiB piece of a longer line. For containers without a
// TTY each entry is wrapped in an 8-byte stdout/stderr frame header; for TTY containers entries are
// written back to back with no framing. Reader undoes both framings, joins the pieces of long
// lines, and reports every line with the capture time of its first piece.
package logstream
