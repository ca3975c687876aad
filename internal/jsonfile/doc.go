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
// A followed file that was deleted before the file written after it could be found, or that was truncated,
// ends the stream: the reader reopened at its position then sees what was lost.
package jsonfile
