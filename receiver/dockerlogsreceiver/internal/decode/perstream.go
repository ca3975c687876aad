package decode

// PerStream holds one value for each of a container's two outputs, stdout and stderr.
type PerStream[T any] [2]T

// At returns the value kept for stream s, which must be Stdout or Stderr.
func (p *PerStream[T]) At(s Stream) *T { return &p[s-1] }

// Streams are the two outputs in the order PerStream keeps them.
var Streams = [...]Stream{Stdout, Stderr}
