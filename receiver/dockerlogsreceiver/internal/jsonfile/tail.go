package jsonfile

import "io"

// tailBlock is how much of a file is read at a time when counting lines back from its end.
const tailBlock = 64 << 10

// tailStart returns the file and the offset in it where the last n lines of the log begin, reading the files
// (oldest first, each up to its end in ends) backwards from the end. Only lines ended by a newline count: a
// line still being written at the end of the newest file is not part of the history. n = 0 returns the
// position just after the last whole line. A compressed file is counted from its start (gzip reads no other way):
// once for its lines, and once more to the line wanted when the tail starts in it.
func tailStart(files []logFile, ends []int64, n int) (int, int64, error) {
	buf := make([]byte, tailBlock)
	need := n + 1 // the newline before the first line wanted; the last newline ends the last one
	for i := len(files) - 1; i >= 0; i-- {
		if files[i].gz {
			c, _, err := gzLines(files[i], 0)
			if err != nil {
				return 0, 0, err
			}
			if c < need {
				need -= c
				continue
			}
			_, after, err := gzLines(files[i], c-need+1)
			if err != nil {
				return 0, 0, err
			}
			return i, after, nil
		}
		for end := ends[i]; end > 0; {
			start := max(end-tailBlock, 0)
			b := buf[:end-start]
			if _, err := files[i].f.ReadAt(b, start); err != nil && err != io.EOF {
				return 0, 0, err
			}
			for j := len(b) - 1; j >= 0; j-- {
				if b[j] != '\n' {
					continue
				}
				if need--; need == 0 {
					return i, start + int64(j) + 1, nil
				}
			}
			end = start
		}
	}
	return 0, 0, nil
}
