package checkpoint

// AfterStep returns the cursor that resumes after a step back of the daemon's clock: it skips everything up to
// and including the log entry at anchor, the newest entry when the step was found, and remembers stepped, the
// newest timestamp stamped before the step.
//
// After a step the log's timestamps no longer follow its order: lines written before the step carry later
// timestamps than the lines written after it, up to stepped, so a reopen at the floor also gets old lines,
// stamped after the floor but written before the floor line. While the floor is not past stepped, a reopen
// therefore drops every line until it has seen the floor line itself (Filter): by the floor's invariant the
// lines before it were delivered, or given up at the step.
func AfterStep(anchor, stepped int64) Cursor {
	c := AtEnd(anchor)
	c.Stepped = stepped
	return c
}

// Replacing returns c as the successor of old, which it may stand behind on purpose (AfterStep): Behind and
// Store.Save take it for the newer of the two.
func (c Cursor) Replacing(old Cursor) Cursor {
	c.Resets = old.Resets + 1
	return c
}

// leaveStep forgets the step once the floor is past every timestamp stamped before it: no old line can then
// come back from a reopen.
func (c *Cursor) leaveStep() {
	if c.Stepped != 0 && c.Floor > c.Stepped {
		c.Stepped = 0
	}
}
