package jsonfile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
)

// A compressed rotated file (compress) is read from its start through compress/gzip: the driver writes it once,
// after the rename, from the plain file, and deletes the plain file only once it is complete, so a .gz the
// listing shows without its plain file is whole. Its offsets, in positions and in corrupt stretches, are offsets
// in its decompressed bytes. The gzip header's Extra holds the time of the last entry written when it was made
// ({"lastTime":...}), but the daemon reads that time after the rotation, racing with the writes to the next file,
// and with two outputs the last entry written is not always the newest one: it cannot tell that a file holds
// nothing at or after a position, so every compressed file is read.

// compareBlock is how much is compared at a time by sameContent.
const compareBlock = 32 << 10

// gzOpen returns a reader of f's decompressed bytes from the start, whatever f's file offset.
func gzOpen(f logFile) (*gzip.Reader, error) {
	return gzip.NewReader(io.NewSectionReader(f.f, 0, math.MaxInt64))
}

// sameContent reports whether the compressed file g holds exactly the bytes of the plain file a: the copy the driver
// made of a before it deleted it. The size gzip keeps in its trailer rules most files out before any is decompressed.
func sameContent(a, g logFile) bool {
	if a.gz || !g.gz {
		return false
	}
	afi, err := a.f.Stat()
	if err != nil {
		return false
	}
	gfi, err := g.f.Stat()
	if err != nil || gfi.Size() < 8 {
		return false
	}
	var isize [4]byte
	if _, err := g.f.ReadAt(isize[:], gfi.Size()-4); err != nil {
		return false
	}
	size := afi.Size()
	if binary.LittleEndian.Uint32(isize[:]) != uint32(size) { //nolint:gosec // gzip keeps the size modulo 2^32
		return false
	}
	z, err := gzOpen(g)
	if err != nil {
		return false
	}
	defer z.Close()
	zb, ab := make([]byte, compareBlock), make([]byte, compareBlock)
	for off := int64(0); ; {
		n, err := io.ReadFull(z, zb)
		if n > 0 {
			if off+int64(n) > size {
				return false
			}
			if _, aerr := a.f.ReadAt(ab[:n], off); aerr != nil || !bytes.Equal(ab[:n], zb[:n]) {
				return false
			}
			off += int64(n)
		}
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return off == size
		case err != nil:
			return false
		}
	}
}

// gzLines counts the newlines of a compressed file, and, when k > 0, returns the offset just after the k-th one
// (or -1 when it has fewer).
func gzLines(f logFile, k int) (count int, after int64, err error) {
	z, err := gzOpen(f)
	if err != nil {
		return 0, -1, err
	}
	defer z.Close()
	buf := make([]byte, tailBlock)
	after = -1
	var off int64
	for {
		n, rerr := z.Read(buf)
		b := buf[:n]
		for len(b) > 0 {
			j := bytes.IndexByte(b, '\n')
			if j < 0 {
				break
			}
			count++
			if count == k {
				after = off + int64(n-len(b)+j) + 1
				return count, after, nil
			}
			b = b[j+1:]
		}
		off += int64(n)
		if errors.Is(rerr, io.EOF) {
			return count, after, nil
		}
		if rerr != nil {
			return count, after, rerr
		}
	}
}
