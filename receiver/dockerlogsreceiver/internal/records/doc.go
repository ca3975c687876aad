// Package records is where a container's delivered lines become OpenTelemetry log records and leave the receiver:
// the resource of a container (its metadata, the daemon's identity, the labels and variables mapped to
// attributes), the records of a batch, the stanza operators and formats run on them, and the delivery to the next
// consumer, which a turn waits for before its position advances.
package records
