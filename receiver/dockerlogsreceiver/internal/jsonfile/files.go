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

// openFile opens path and identifies the file opened.
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
	return logFile{f: f, ino: ino, dev: dev}, nil
}

// ErrCompressed says that the rotated files of a log are compressed (json-file's compress option): a compressed
// file is a new file, written after the rename, so the files cannot show which one follows the file read, and the
// log is read through the API instead, which reads them.
var ErrCompressed = errors.New("json-file compresses the rotated files of this log")

// rotated returns the numbers of the rotated files of the log at path (<path>.1, <path>.2, ...), lowest (newest)
// first, or ErrCompressed when some are compressed (<path>.N.gz). A directory listing, not a count up to the first
// missing number: a rotation under way renames them one by one, which leaves a hole for a moment.
//
// A directory the collector may enter but not list (the daemon makes them 0710 root:root, and a collector given
// group 0 has just the x bit) is probed by name instead (probeRotated).
func rotated(path string) ([]int, error) {
	names, err := os.ReadDir(filepath.Dir(path))
	if errors.Is(err, fs.ErrPermission) {
		return probeRotated(path)
	}
	if err != nil {
		return nil, err
	}
	prefix := filepath.Base(path) + "."
	var ns []int
	for _, e := range names {
		if rest, ok := strings.CutPrefix(e.Name(), prefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && n > 0 {
				ns = append(ns, n)
			} else if n, err := strconv.Atoi(strings.TrimSuffix(rest, ".gz")); err == nil && n > 0 {
				return nil, ErrCompressed
			}
		}
	}
	slices.Sort(ns)
	return ns, nil
}

// maxProbeMisses is how many missing numbers in a row end probeRotated: a rotation under way leaves one hole.
const maxProbeMisses = 2

// probeRotated returns the numbers of the rotated files of the log at path by looking each name up: <path>.1,
// <path>.2, ... until maxProbeMisses numbers in a row have no file (so the hole a rotation under way leaves for a
// moment does not end the list), or ErrCompressed when a <path>.N.gz is found.
func probeRotated(path string) ([]int, error) {
	var ns []int
	for n, misses := 1, 0; misses < maxProbeMisses; n++ {
		name := path + "." + strconv.Itoa(n)
		if _, err := os.Lstat(name); err == nil {
			ns, misses = append(ns, n), 0
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if _, err := os.Lstat(name + ".gz"); err == nil {
			return nil, ErrCompressed
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		misses++
	}
	return ns, nil
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
func openOnce(path string, after *logFile) ([]logFile, error) {
	var ns []int
	if after == nil {
		var err error
		if ns, err = rotated(path); err != nil {
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
	for i := 0; ; i++ {
		if after == nil && i > len(ns) {
			break
		}
		name := path
		switch {
		case i > 0 && after == nil:
			name = path + "." + strconv.Itoa(ns[i-1])
		case i > 0:
			name = path + "." + strconv.Itoa(i)
		}
		f, err := openFile(name)
		if err != nil {
			if after != nil && i > 0 && errors.Is(err, fs.ErrNotExist) {
				if _, serr := os.Stat(path + "." + strconv.Itoa(i+1)); serr == nil {
					// A hole: a rotation is renaming the files one up.
					return fail(errRotating)
				}
				// The oldest file is behind: after is gone.
				break
			}
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
		if after != nil && f.ino == after.ino && f.dev == after.dev {
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
		if ns2, err := rotated(path); err != nil || !slices.Equal(ns, ns2) {
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
