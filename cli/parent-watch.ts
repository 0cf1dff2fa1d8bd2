/**
 * Calls `orphaned` once when the process that started this one exits. A supervisor must not
 * outlive the command a person or a process manager runs: npm passes SIGTERM on to its own child
 * only, so a wrapper between it and us (a shell, a script) could die of the signal and leave us,
 * re-parented to init or a subreaper, keeping the whole stack running. Linux has no portable way
 * for Node to ask for a parent-death signal (prctl PR_SET_PDEATHSIG, which `setpriv --pdeathsig`
 * sets for the stack's Java and Azurite children), so the parent's pid is checked once a second.
 * A process started by init itself (systemd, a container's entrypoint) has no parent to lose.
 */
export function stopWhenOrphaned(orphaned: () => void, everyMs = 1000): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => undefined;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    orphaned();
  }, everyMs);
  // Never what keeps the process alive.
  timer.unref();
  return () => clearInterval(timer);
}
