package ocf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// openTraceFD returns a duplicate of fd, which the caller opened for
// writing: closing the trace leaves the caller's descriptor alone, and the
// background sender does not inherit it.
//
// It refuses a descriptor the agent opened itself rather than inherited,
// and a socket. A number that the caller left free is soon one of the
// agent's own (its syslog socket, a netlink socket), and the background
// sender holds its packet socket at 3: a trace written into a packet
// socket leaves as Ethernet frames, its text as their addresses. Go opens
// every descriptor close-on-exec, and one that came through exec cannot
// have the flag, so the flag tells the two apart.
func openTraceFD(fd int) (io.WriteCloser, error) {
	fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return nil, fmt.Errorf("open trace fd %d: %w", fd, err)
	}
	if fdfl&unix.FD_CLOEXEC != 0 {
		return nil, fmt.Errorf("open trace fd %d: not a descriptor the caller passed, but one of the agent's own", fd)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("open trace fd %d: %w", fd, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
		return nil, fmt.Errorf("open trace fd %d: is a socket, and a trace goes to no socket", fd)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, fmt.Errorf("open trace fd %d: %w", fd, err)
	}
	if m := fl & unix.O_ACCMODE; m != unix.O_WRONLY && m != unix.O_RDWR {
		return nil, fmt.Errorf("open trace fd %d: not open for writing", fd)
	}
	d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 10)
	if err != nil {
		return nil, fmt.Errorf("duplicate trace fd %d: %w", fd, err)
	}
	return os.NewFile(uintptr(d), fmt.Sprintf("trace fd %d", fd)), nil
}

// openTraceFile opens base/dirs.../name for appending. It walks the
// directories by descriptor, with O_NOFOLLOW, rather than checking paths
// with Lstat and opening them after: nobody can swap a directory for a
// link between the check and the use. base itself is followed when follow
// says so (the directory of a trace_file path, which may well be /var/run).
func openTraceFile(base string, follow bool, dirs []string, name string) (io.WriteCloser, error) {
	if err := notSystem(filepath.Join(append([]string{base}, dirs...)...)); err != nil {
		return nil, fmt.Errorf("open trace %s: %w", filepath.Join(append(append([]string{base}, dirs...), name)...), err)
	}
	if fi, err := os.Lstat(base); err == nil && !follow && fi.Mode()&os.ModeSymlink != 0 {
		// Also a dangling link, which MkdirAll would call "file exists".
		return nil, fmt.Errorf("open trace directory %s: %w", base, errSymlink)
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, fmt.Errorf("create trace directory: %w", err)
	}
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	dfd, err := unix.Open(base, flags, 0)
	if err != nil {
		return nil, dirError(base, err)
	}
	path := base
	for _, d := range dirs {
		path = filepath.Join(path, d)
		if err := unix.Mkdirat(dfd, d, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			unix.Close(dfd)
			return nil, fmt.Errorf("create trace directory %s: %w", path, err)
		}
		next, err := unix.Openat(dfd, d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(dfd)
		if err != nil {
			return nil, dirError(path, err)
		}
		dfd = next
	}
	defer unix.Close(dfd)
	path = filepath.Join(path, name)
	// Where the directory really is, through the links a trace_file
	// path may follow.
	if real, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", dfd)); err != nil {
		return nil, fmt.Errorf("open trace %s: %w", path, err)
	} else if err := notSystem(real); err != nil {
		return nil, fmt.Errorf("open trace %s: %w", path, err)
	}
	f, err := openTraceAt(dfd, name, path)
	if err != nil {
		return nil, fmt.Errorf("open trace %s: %w", path, err)
	}
	return f, nil
}

// systemDirs are the trees in which programs read files by their name,
// or every file of a directory: /etc/ld.so.preload, which does not
// exist on most systems, or /etc/sudoers.d. A trace created there, with
// the parameter values in its text, would be their input; floatip
// creates and appends to no trace in them.
var systemDirs = []string{"/bin", "/boot", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/root", "/sbin", "/usr", "/var/spool"}

// notSystem refuses a directory in one of the systemDirs.
func notSystem(dir string) error {
	dir = filepath.Clean(dir)
	for _, d := range systemDirs {
		if dir == d || strings.HasPrefix(dir, d+"/") {
			return fmt.Errorf("is in %s, among the system's files, where floatip writes no trace", d)
		}
	}
	return nil
}

// traceMark is the first line of every trace file that floatip creates.
// An existing file is appended to only when it starts with it and is as
// floatip leaves its files (see checkTraceFile): root may write where
// trace_file says, and whoever may set a resource's parameters must not
// get it to append to a file that is not a trace, /etc/ld.so.preload or
// /etc/shadow. Only floatip writes this line at the start of a file it
// created with O_EXCL.
const traceMark = "# floatip trace\n"

// openTraceAt opens name in the directory dfd for appending: a new file,
// created with O_EXCL, mode 0600 and traceMark as its first line, or an
// existing one that floatip made. Nothing else is opened for writing:
// the file is looked at with fstatat before it is opened, so that not
// even the open of a device (a watchdog) happens, and again through the
// opened descriptor, which no one can swap.
func openTraceAt(dfd int, name, path string) (*os.File, error) {
	const flags = unix.O_APPEND | unix.O_NOFOLLOW | unix.O_NOCTTY | unix.O_CLOEXEC
	fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|flags, 0o600)
	if err == nil {
		f := os.NewFile(uintptr(fd), path)
		// The mode, whatever the umask, and the mark: this file is
		// floatip's from now on.
		if err := errors.Join(f.Chmod(0o600), writeMark(f)); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return nil, err
	}
	var before unix.Stat_t
	if err := unix.Fstatat(dfd, name, &before, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, err
	}
	if err := checkTraceFile(&before); err != nil {
		return nil, err
	}
	// Read and write: the mark is read through the descriptor that
	// appends. O_NONBLOCK: should a FIFO have taken the file's place
	// since fstatat, the open does not wait for a reader.
	fd, err = unix.Openat(dfd, name, unix.O_RDWR|unix.O_NONBLOCK|flags, 0)
	if errors.Is(err, unix.ELOOP) {
		err = errSymlink
	}
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	if err == nil && (st.Dev != before.Dev || st.Ino != before.Ino) {
		err = errors.New("was replaced while it was opened")
	}
	if err == nil {
		err = checkTraceFile(&st)
	}
	if err == nil {
		err = checkMark(f)
	}
	if err == nil {
		err = unix.SetNonblock(fd, false)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func writeMark(f *os.File) error {
	_, err := f.WriteString(traceMark)
	return err
}

// checkMark accepts a file that starts with traceMark.
func checkMark(f *os.File) error {
	b := make([]byte, len(traceMark))
	if n, _ := f.ReadAt(b, 0); n != len(b) || string(b) != traceMark {
		return fmt.Errorf("was not made by floatip: it does not start with %q", strings.TrimSuffix(traceMark, "\n"))
	}
	return nil
}

// checkTraceFile accepts a file as floatip leaves its traces: a regular
// file (a device is no place for a trace), with one link (a second one
// may be a hard link to a file that is not the trace's to append to),
// owned by the user floatip runs as (root) with mode 0600, so that a
// file someone else made, or one root made readable to others, is left
// alone.
func checkTraceFile(st *unix.Stat_t) error {
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return errSymlink
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return errors.New("not a regular file")
	case st.Nlink > 1:
		return fmt.Errorf("has %d hard links", st.Nlink)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("is owned by uid %d, not by uid %d, which floatip runs as", st.Uid, os.Geteuid())
	case st.Mode&0o7777 != 0o600:
		return fmt.Errorf("has mode %04o, not 0600", st.Mode&0o7777)
	}
	return nil
}

// dirError explains why a trace directory did not open: with O_NOFOLLOW
// and O_DIRECTORY a symbolic link fails with ELOOP or ENOTDIR.
func dirError(path string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			err = errSymlink
		}
	}
	return fmt.Errorf("open trace directory %s: %w", path, err)
}

// isTerminal says whether w is a terminal, as isatty does.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var terr error
	if err := rc.Control(func(fd uintptr) {
		_, terr = unix.IoctlGetTermios(int(fd), unix.TCGETS)
	}); err != nil {
		return false
	}
	return terr == nil
}
