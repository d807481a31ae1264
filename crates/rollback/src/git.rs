//! The release checkout: where HEAD is, which release tags exist, and which
//! one is the previous known-good release (by version order).

use crate::command;
use crate::error::{GitError, PlanError};
use crate::version::{Version, validate_tag};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Timeout of the read-only git queries made while planning.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes of output accepted from one git query.
const QUERY_MAX: usize = 8 << 20;

/// A release tag and the commit it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    pub name: String,
    pub version: Version,
    pub commit: String,
}

impl Tag {
    /// The tag as a step record names it.
    pub fn to_ref(&self) -> canary_core::step::TagRef {
        canary_core::step::TagRef {
            tag: self.name.clone(),
            commit: self.commit.clone(),
        }
    }
}

/// Where the checkout is now.
#[derive(Debug, Clone)]
pub struct Head {
    pub commit: String,
    /// The branch HEAD is on, or `None` when detached.
    pub branch: Option<String>,
    /// The highest-versioned tag naming HEAD's commit, if any.
    pub release: Option<Tag>,
}

impl Head {
    /// Where HEAD is, as a result record names it.
    pub fn to_ref(&self) -> canary_core::step::HeadRef {
        canary_core::step::HeadRef {
            commit: self.commit.clone(),
            branch: self.branch.clone(),
            tag: self.release.as_ref().map(|t| t.name.clone()),
        }
    }

    /// `v1.10.0`, or a short commit when HEAD is not at a tag.
    pub fn label(&self) -> String {
        match &self.release {
            Some(t) => t.name.clone(),
            None => format!("commit {}", short(&self.commit)),
        }
    }
}

pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// A git checkout, checked to be one.
#[derive(Debug, Clone)]
pub struct Repo {
    pub dir: PathBuf,
    pub git_dir: PathBuf,
}

impl Repo {
    pub fn open(dir: &Path) -> Result<Repo, GitError> {
        if !dir.is_dir() {
            return Err(GitError::NotDir(dir.to_owned()));
        }
        let dir = dir
            .canonicalize()
            .map_err(|e| GitError::Resolve(dir.to_owned(), e))?;
        let out = query(&dir, &["rev-parse", "--absolute-git-dir"])?;
        let git_dir = PathBuf::from(out.trim());
        Ok(Repo { dir, git_dir })
    }

    /// Every tag whose name is a valid version, sorted by version. Tags with
    /// other names are not releases and are left out.
    pub fn tags(&self) -> Result<Vec<Tag>, GitError> {
        let out = query(
            &self.dir,
            &[
                "for-each-ref",
                "--format=%(refname:strip=2) %(objectname) %(*objectname)",
                "refs/tags",
            ],
        )?;
        let mut tags: Vec<Tag> = out
            .lines()
            .filter_map(|line| {
                let mut parts = line.split(' ');
                let name = parts.next()?;
                let object = parts.next()?;
                let peeled = parts.next().unwrap_or("");
                let version = validate_tag(name).ok()?;
                let commit = if peeled.is_empty() { object } else { peeled };
                Some(Tag {
                    name: name.to_owned(),
                    version,
                    commit: commit.to_owned(),
                })
            })
            .collect();
        tags.sort_by(|a, b| a.version.cmp(&b.version).then(a.name.cmp(&b.name)));
        Ok(tags)
    }

    pub fn head(&self, tags: &[Tag]) -> Result<Head, GitError> {
        let commit = query(&self.dir, &["rev-parse", "--verify", "HEAD^{commit}"])
            .map_err(|e| GitError::NoHead(Box::new(e)))?
            .trim()
            .to_owned();
        let branch = query(&self.dir, &["symbolic-ref", "-q", "--short", "HEAD"])
            .ok()
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty());
        let release = tags.iter().rev().find(|t| t.commit == commit).cloned();
        Ok(Head {
            commit,
            branch,
            release,
        })
    }

    /// The argv that checks out `tag` (already validated): the tag as one
    /// fully qualified ref after `--end-of-options` (git's end of options for
    /// revisions), and a trailing `--` so nothing can read as a path.
    pub fn checkout_argv(tag: &str) -> Vec<String> {
        [
            "git",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "--quiet",
            "--detach",
            "--end-of-options",
            &format!("refs/tags/{tag}"),
            "--",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Local changes to tracked files (`git status --porcelain`), empty when
    /// clean. Untracked files are not counted (the bot's logs and pid files
    /// live in the tree); a modified tracked file would be carried silently
    /// into the release checked out, so it is a finding.
    pub fn changes(&self) -> Result<String, GitError> {
        query(
            &self.dir,
            &[
                "status",
                "--porcelain=v1",
                "--untracked-files=no",
                "--ignore-submodules=none",
            ],
        )
        .map(|s| s.trim_end().to_owned())
    }

    /// A `.git/index.lock` left by a git killed half-way.
    pub fn index_locked(&self) -> bool {
        std::fs::symlink_metadata(self.git_dir.join("index.lock")).is_ok()
    }

    /// HEAD's commit now (after a checkout), for verification.
    pub fn head_commit(&self) -> Result<String, GitError> {
        query(&self.dir, &["rev-parse", "--verify", "HEAD^{commit}"]).map(|s| s.trim().to_owned())
    }
}

/// Every git run by rollback (often as root) runs with the repository's
/// hooks and fsmonitor command turned off: the repository is writable by the
/// bot's user, and none of its code may run as root.
pub const SAFE_GIT: [&str; 4] = [
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
];

fn query(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let mut argv = vec!["git".to_owned()];
    argv.extend(SAFE_GIT.iter().map(|a| (*a).to_owned()));
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    let (outcome, stdout) = command::run_keeping(&argv, dir, QUERY_TIMEOUT, QUERY_MAX);
    if !outcome.success() {
        let why = if outcome.stderr_tail.is_empty() {
            outcome.describe(QUERY_TIMEOUT)
        } else {
            outcome.stderr_tail.clone()
        };
        return Err(GitError::Failed {
            args: args.join(" "),
            why,
        });
    }
    if stdout.len() >= QUERY_MAX {
        return Err(GitError::TooLarge {
            args: args.join(" "),
        });
    }
    String::from_utf8(stdout).map_err(|_| GitError::NotUtf8 {
        args: args.join(" "),
    })
}

/// The previous known-good release: the highest release (not pre-release)
/// tag whose version is below HEAD's release and whose commit is not HEAD's.
pub fn previous_release<'a>(tags: &'a [Tag], head: &Head) -> Result<&'a Tag, PlanError> {
    let Some(current) = &head.release else {
        return Err(PlanError::NotAtRelease {
            head: short(&head.commit).to_owned(),
            hint: nearest_hint(tags),
        });
    };
    tags.iter()
        .rev()
        .filter(|t| t.version.is_release())
        .find(|t| t.version < current.version && t.commit != head.commit)
        .ok_or_else(|| PlanError::NoEarlier {
            current: current.name.clone(),
        })
}

fn nearest_hint(tags: &[Tag]) -> String {
    let names: Vec<&str> = tags
        .iter()
        .rev()
        .filter(|t| t.version.is_release())
        .take(3)
        .map(|t| t.name.as_str())
        .collect();
    if names.is_empty() {
        " (the repository has no release tags)".into()
    } else {
        format!(" (latest releases: {})", names.join(", "))
    }
}

/// The tag named `name` (already validated), if the repository has it.
pub fn find<'a>(tags: &'a [Tag], name: &str) -> Option<&'a Tag> {
    tags.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, commit: &str) -> Tag {
        Tag {
            name: name.into(),
            version: validate_tag(name).expect("valid"),
            commit: commit.into(),
        }
    }

    fn head_at(t: Option<&Tag>, commit: &str) -> Head {
        Head {
            commit: commit.into(),
            branch: None,
            release: t.cloned(),
        }
    }

    #[test]
    fn previous_is_by_version_and_skips_prereleases() {
        let mut tags = vec![
            tag("v1.10.0", "c"),
            tag("v1.2.0", "a"),
            tag("v1.3.0", "b"),
            tag("v1.9.0-rc.1", "r"),
        ];
        tags.sort_by(|a, b| a.version.cmp(&b.version));
        let head = head_at(Some(&tags[3]), "c");
        assert_eq!(
            previous_release(&tags, &head).expect("found").name,
            "v1.3.0"
        );
        let head = head_at(Some(&tags[0]), "a");
        let err = previous_release(&tags, &head).expect_err("none earlier");
        assert!(
            err.to_string()
                .contains("no release tag earlier than v1.2.0"),
            "{err}"
        );
        let err = previous_release(&tags, &head_at(None, "d")).expect_err("untagged");
        assert!(err.to_string().contains("not at a release tag"), "{err}");
    }

    #[test]
    fn checkout_argv_keeps_the_tag_one_element_after_end_of_options() {
        let argv = Repo::checkout_argv("v1.3.0");
        let at = argv
            .iter()
            .position(|a| a == "--end-of-options")
            .expect("present");
        assert_eq!(argv[at + 1], "refs/tags/v1.3.0");
        assert_eq!(argv.last().map(String::as_str), Some("--"));
    }
}
