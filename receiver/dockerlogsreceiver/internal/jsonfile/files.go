package jsonfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// logFile is one open file of a container's log.
type logFile struct {
	f   *os.File
	ino uint64
	dev uint64
	// gz: a rotated file json-file compressed (compress), read through compress/gzip.
	gz bool
}

// sameFile reports whether fi is this file.
func (l logFile) sameFile(fi fs.FileInfo) bool {
	ino, dev := fileID(fi)
	return ino == l.ino && dev == l.dev
}

// fileID returns a file's inode and device.
func fileID(fi fs.FileInfo) (ino, dev uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino, uint64(st.Dev) //nolint:unconvert // the type differs between platforms
	}
	return 0, 0
}

// openFile opens path and identifies the file opened; a name ending in .gz is a compressed file.
func openFile(path string) (logFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return logFile{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return logFile{}, err
	}
	ino, dev := fileID(fi)
	return logFile{f: f, ino: ino, dev: dev, gz: strings.HasSuffix(path, gzSuffix)}, nil
}

// gzSuffix ends the name of a rotated file json-file compressed (compress): <path>.N.gz.
const gzSuffix = ".gz"

// slot is one rotated file of a log: its number, and whether it is compressed.
type slot struct {
	n  int
	gz bool
}

// name returns the slot's file name for the log at path.
func (s slot) name(path string) string {
	name := path + "." + strconv.Itoa(s.n)
	if s.gz {
		name += gzSuffix
	}
	return name
}

// rotated returns the rotated files of the log at path (<path>.1, <path>.2, ..., or <path>.N.gz when compressed),
// lowest (newest) first. A directory listing, not a count up to the first missing number: a rotation under way
// renames them one by one, which leaves a hole for a moment. When a number has both (the driver compresses <path>.1
// into <path>.1.gz after the rotation, then deletes <path>.1), the plain file is taken: it is complete, the
// compressed one may not be yet.
//
// A directory the collector may enter but not list (the daemon makes them 0710 root:root, and a collector given
// group 0 has just the x bit) is probed by name instead (probeRotated).
func rotated(path string) ([]slot, error) {
	names, err := os.ReadDir(filepath.Dir(path))
	if errors.Is(err, fs.ErrPermission) {
		return probeRotated(path)
	}
	if err != nil {
		return nil, err
	}
	prefix := filepath.Base(path) + "."
	plain := map[int]bool{}
	var gz []int
	for _, e := range names {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(rest); err == nil && n > 0 {
			plain[n] = true
		} else if n, err := strconv.Atoi(strings.TrimSuffix(rest, gzSuffix)); err == nil && n > 0 && strings.HasSuffix(rest, gzSuffix) {
			gz = append(gz, n)
		}
	}
	var ss []slot
	for n := range plain {
		ss = append(ss, slot{n: n})
	}
	for _, n := range gz {
		if !plain[n] {
			ss = append(ss, slot{n: n, gz: true})
		}
	}
	slices.SortFunc(ss, func(a, b slot) int { return a.n - b.n })
	return ss, nil
}

// maxProbeMisses is how many missing numbers in a row end probeRotated: a rotation under way leaves one hole.
const maxProbeMisses = 2

// probeRotated returns the rotated files of the log at path by looking each name up: <path>.1 (or <path>.1.gz),
// <path>.2, ... until maxProbeMisses numbers in a row have no file (so the hole a rotation under way leaves for a
// moment does not end the list).
func probeRotated(path string) ([]slot, error) {
	var ss []slot
	for n, misses := 1, 0; misses < maxProbeMisses; n++ {
		s, ok, err := lookSlot(path, n)
		if err != nil {
			return nil, err
		}
		if ok {
			ss, misses = append(ss, s), 0
			continue
		}
		misses++
	}
	return ss, nil
}

// lookSlot looks up the rotated file number n of the log at path: plain first (complete while its compressed copy
// is being written), then compressed.
func lookSlot(path string, n int) (slot, bool, error) {
	for _, s := range []slot{{n: n}, {n: n, gz: true}} {
		_, err := os.Lstat(s.name(path))
		if err == nil {
			return s, true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return slot{}, false, err
		}
	}
	return slot{}, false, nil
}

// errRotating means the files changed while they were being opened.
var errRotating = errors.New("the log rotated while its files were opened")

// snapshotTries bounds the attempts at opening the files between two rotations.
const snapshotTries = 20

// openAll opens every file of the log at path as one consistent set, oldest first (the current file last).
func openAll(path string) ([]logFile, error) {
	return openSet(path, nil)
}

// openSet opens the files of the log at path as one consistent set, oldest first (the current file last): all of
// them, or, when after is set, those written after it (the set then starts with after's file; nil when after is
// no longer among them).
//
// The driver rotates without a lock readers could take, so the files are opened newest first and then checked:
// the set is kept only when every file is a different one and every name still leads to the file opened under
// it; otherwise a rotation was under way, and the set is opened again.
func openSet(path string, after *logFile) ([]logFile, error) {
	var err error
	for try := range snapshotTries {
		if try > 0 {
			time.Sleep(time.Millisecond << min(try, 6))
		}
		var files []logFile
		files, err = openOnce(path, after)
		if err == nil {
			return files, nil
		}
		if !errors.Is(err, errRotating) {
			return nil, err
		}
	}
	return nil, err
}

// openOnce makes one attempt at openSet.
//
// A file written after is compressed under a new name by the driver (a new file, which no inode ties to after):
// a compressed file that holds exactly after's bytes is after's copy (sameContent), and the set starts there.
func openOnce(path string, after *logFile) ([]logFile, error) {
	var ss []slot
	if after == nil {
		var err error
		if ss, err = rotated(path); err != nil {
			return nil, err
		}
	}
	var files []logFile
	var names []string
	fail := func(err error) ([]logFile, error) {
		closeFiles(files)
		return nil, err
	}
	found := false
files:
	for i := 0; ; i++ {
		if after == nil && i > len(ss) {
			break
		}
		name := path
		switch {
		case i > 0 && after == nil:
			name = ss[i-1].name(path)
		case i > 0:
			s, ok, err := lookSlot(path, i)
			if err != nil {
				return fail(err)
			}
			if !ok {
				if _, ok, err := lookSlot(path, i+1); err != nil {
					return fail(err)
				} else if ok {
					// A hole: a rotation is renaming the files one up.
					return fail(errRotating)
				}
				// The oldest file is behind: after is gone.
				break files
			}
			name = s.name(path)
		}
		f, err := openFile(name)
		if err != nil {
			if i > 0 && errors.Is(err, fs.ErrNotExist) {
				return fail(errRotating)
			}
			return fail(err)
		}
		for _, g := range files {
			if g.ino == f.ino && g.dev == f.dev {
				f.f.Close()
				return fail(errRotating)
			}
		}
		files, names = append(files, f), append(names, name)
		if after != nil && (f.ino == after.ino && f.dev == after.dev || f.gz && sameContent(*after, f)) {
			found = true
			break
		}
	}
	for i, name := range names {
		fi, err := os.Stat(name)
		if err != nil || !files[i].sameFile(fi) {
			return fail(errRotating)
		}
	}
	if after == nil {
		if ss2, err := rotated(path); err != nil || !slices.Equal(ss, ss2) {
			return fail(errRotating)
		}
	} else if !found {
		return fail(nil)
	}
	slices.Reverse(files)
	return files, nil
}

// closeFiles closes the files of a set.
func closeFiles(files []logFile) {
	for _, f := range files {
		f.f.Close()
	}
}

// describe names a file for error messages.
func describe(l logFile) string {
	return fmt.Sprintf("%s (inode %d)", l.f.Name(), l.ino)
}
