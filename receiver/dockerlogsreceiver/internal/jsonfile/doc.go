// Package jsonfile serves a container's log from the files of Docker's json-file logging driver, producing the
// very bytes the Engine API's logs endpoint returns for the same request (stdout=1, stderr=1, timestamps=1), so
// that everything that reads the API's stream reads these files unchanged.
//
// The driver writes one JSON object per line, {"log":"...","stream":"stdout","time":"..."}, into
// <id>-json.log, and, with max-size, renames a full file to <id>-json.log.1 (the older ones one number up,
// the oldest beyond max-file deleted) before it opens a new one. A line longer than 16 KiB is stored as several
// entries, each but the last without its newline, all stamped with the first one's time. The API decodes those
// entries and writes each as one frame (8-byte header: stream, 0, 0, 0, size big-endian) holding the entry's
// time in the fixed-width RFC 3339 form with nanoseconds, a space, and the entry's text; a TTY container's
// stream has no frame headers. Open does the same from the files:
//
//   - Since: entries stamped before it are dropped (the API's since is inclusive, and judges each entry alone).
//   - Tail: only the last Tail entries of the log, across its files, are read, and Since is applied after.
//   - Follow: after the history the newest file is followed, across the driver's renames, until the container
//     stops (Source.Running) or the stream is closed.
//
// A followed file that was deleted before the file written after it could be found ends the stream: the reader
// reopened at its position then sees what was lost. With max-file 1 the driver truncates the file in place: every
// read is checked to precede a truncation, and a file read whole (to an entry's end, and to max-size, which the
// driver truncates at) is read on from its start; one that was not ends the stream, as a deleted file does.
//
// A stretch of a file that holds no entry (a crash's NULs, a torn write) is passed over and reported once through
// Source.Corrupt, and an entry the driver appended to it without a newline is read.
//
// With compress the driver compresses each rotated file into <id>-json.log.N.gz after the rename and deletes the
// plain one: those are read from their start through compress/gzip (the plain file while both exist), and a
// follower whose file was compressed away goes on with the files written after the compressed copy, which it
// finds by content (gzip.go).
package jsonfile
