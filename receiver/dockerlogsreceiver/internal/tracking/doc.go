// Package tracking decides which containers are read and from where, and runs the turns the pool grants them.
//
// It sits between the configuration and the pool on a line's way (config -> tracking -> pool -> turn -> decode ->
// checkpoint -> records -> consumer). A Tracker follows the daemon's events and a periodic list (discovery.go,
// events.go, reconcile.go), applies the include/exclude rules and the containers' labels (selection.go), makes a
// container known with its metadata, saved position or start point (admit.go, startpoint.go), opens the streams
// of new containers at their start events (early.go), and forgets removed ones, reporting what went with them
// (removal.go). It drives the pool through the small Pool interface: Add, Again, Remove.
//
// The receiver's side of a turn (turn.go: from a pool slot to internal/turn and back, with the position saved
// and the gaps reported) lives here too, not in a package of its own: a turn and a removal meet on the same
// tracked container (container_turns.go). Whichever of them sees the removal last reports the lines that went
// with it, a container destroyed while it is read is read on to the end of its log outside the pool, and a start
// event may move a position a turn is advancing. Those handshakes take the container's state under one lock and
// cannot be read apart; split into two packages, each would need the other's internals.
//
// Words: a container is tracked once it is known with a position; parked is a stream opened at a start event and
// waiting for the container's first turn; a position is saved only after the next consumer accepted its lines.
package tracking
