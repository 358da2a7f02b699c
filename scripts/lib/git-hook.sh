# shellcheck shell=sh
# The git hooks that tell Jenkins about a new commit, so that the multibranch job "shop" scans the
# repository at once instead of at its next periodic scan (jenkins/casc.yaml). Sourced by
# scripts/jenkins-up.sh (install) and scripts/jenkins-down.sh (remove), after scripts/lib/common.sh.
#
# Each hook runs `curl JENKINS/git/notifyCommit?url=REMOTE` in the background, with a 5 s limit and
# every error ignored: a commit is never slowed down or failed, with or without Jenkins. REMOTE must be
# the job's remote exactly as configured (git plugin: GitStatus matches host and path). No sha1 and no
# token: the controller allows that call only (NOTIFY_COMMIT_ACCESS_CONTROL=disabled-for-polling in
# jenkins/controller.yaml), and the git plugin answers it by rescanning every multibranch project with
# that remote, which then builds the branches whose head changed.
#
# A hook file that is not ours (no marker line) is never touched: install warns and leaves it.
# Usage (POSIX sh; also from a test, on a throwaway repository):
#   . scripts/lib/common.sh; . scripts/lib/git-hook.sh
#   install_notify_hooks REPO JENKINS_URL REMOTE_URL
#   remove_notify_hooks REPO

NOTIFY_HOOKS="post-commit post-merge post-rewrite"
NOTIFY_HOOK_MARKER="# shop: notify Jenkins of commits (scripts/lib/git-hook.sh)"

# notify_hooks_dir REPO: where git runs REPO's hooks (honours core.hooksPath and worktrees), absolute.
notify_hooks_dir() {
  _dir=$(cd "$1" && git rev-parse --git-path hooks) || return 1
  case $_dir in
    /*) printf '%s\n' "$_dir" ;;
    *) printf '%s/%s\n' "$(cd "$1" && pwd)" "$_dir" ;;
  esac
}

# is_notify_hook FILE: true when FILE is a hook written by install_notify_hooks.
is_notify_hook() {
  [ -f "$1" ] && grep -qxF "$NOTIFY_HOOK_MARKER" "$1"
}

# notify_hook_text JENKINS_URL REMOTE_URL: the hook script.
notify_hook_text() {
  cat <<HOOK
#!/bin/sh
$NOTIFY_HOOK_MARKER
# Installed by scripts/jenkins-up.sh, removed by scripts/jenkins-down.sh. Asks Jenkins to scan the
# repository: in the background, at most 5 s, errors ignored, so the commit never waits or fails.
if command -v curl >/dev/null 2>&1; then
  (curl -fsS -m 5 '${1%/}/git/notifyCommit?url=$2' || true) </dev/null >/dev/null 2>&1 &
fi
exit 0
HOOK
}

# install_notify_hooks REPO JENKINS_URL REMOTE_URL: writes (or rewrites) our hooks in REPO.
install_notify_hooks() {
  case "$2$3" in *"'"*) die "a quote in the Jenkins URL or the remote: $2 $3" ;; esac
  _hooks=$(notify_hooks_dir "$1" 2>/dev/null) || die "$1 is not a git repository: no hooks installed"
  mkdir -p "$_hooks"
  for _hook in $NOTIFY_HOOKS; do
    if [ -e "$_hooks/$_hook" ] && ! is_notify_hook "$_hooks/$_hook"; then
      warn "$_hooks/$_hook exists and is not ours: left as is. For builds on commit, add to it:
  curl -fsS -m 5 '${2%/}/git/notifyCommit?url=$3' >/dev/null 2>&1 &"
      continue
    fi
    notify_hook_text "$2" "$3" >"$_hooks/$_hook.tmp"
    chmod +x "$_hooks/$_hook.tmp"
    mv "$_hooks/$_hook.tmp" "$_hooks/$_hook"
    note "$_hook hook: notifies ${2%/}/git/notifyCommit?url=$3"
  done
}

# remove_notify_hooks REPO: deletes our hooks from REPO, and only ours.
remove_notify_hooks() {
  command -v git >/dev/null 2>&1 || return 0
  _hooks=$(notify_hooks_dir "$1" 2>/dev/null) || return 0
  for _hook in $NOTIFY_HOOKS; do
    if is_notify_hook "$_hooks/$_hook"; then
      rm -f "$_hooks/$_hook"
      note "removed the $_hook hook"
    fi
  done
}
