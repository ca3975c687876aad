package decode

import "strconv"

// Stream identifies which output of the container a line came from.
type Stream uint8

// The values are the stream bytes of the multiplexed frame header.
const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// streamDaemonError is the frame stream byte the daemon uses for an in-band error message.
const streamDaemonError = 3

// String returns "stdout" or "stderr", the names Docker uses for the streams.
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return "Stream(" + strconv.Itoa(int(s)) + ")"
}
