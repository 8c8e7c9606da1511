//! Status monitoring: the adaptive polling cadence (used by the worker), and the Activity board
//! of in-flight work with rate, ETA, a timeline per job and the notices that become toasts.
//! Pure: callers pass the current time in, so every rule is unit-tested.

use std::time::Duration;

use super::i18n::{Lang, fill};
use super::model::{ImageRow, RowKey, Status};

/// How often to poll in-flight images.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollPolicy {
    /// While progress moves.
    pub fast: Duration,
    /// The ceiling when nothing moves.
    pub slow: Duration,
    /// Each poll without movement multiplies the delay by this.
    pub growth: f64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self { fast: Duration::from_secs(2), slow: Duration::from_secs(30), growth: 1.6 }
    }
}

/// The cadence state: fast while progress moves, backing off to `slow` while it does not.
#[derive(Clone, Debug)]
pub struct PollCadence {
    policy: PollPolicy,
    delay: Duration,
}

impl PollCadence {
    pub fn new(policy: PollPolicy) -> Self {
        Self { policy, delay: policy.fast }
    }

    /// The delay before the next poll, given whether the last one saw progress move.
    pub fn next(&mut self, moved: bool) -> Duration {
        self.delay = if moved {
            self.policy.fast
        } else {
            self.delay.mul_f64(self.policy.growth).min(self.policy.slow).max(self.policy.fast)
        };
        self.delay
    }

    /// New work appeared: look again soon.
    pub fn reset(&mut self) {
        self.delay = self.policy.fast;
    }

    pub fn current(&self) -> Duration {
        self.delay
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

/// One timeline entry: seconds since the board's epoch, and what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEntry {
    pub at_secs: f64,
    pub what: TimelineEvent,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TimelineEvent {
    /// First observed in this status at this progress.
    Seen(Status, u8),
    /// Started from ImageDesk, with its task ID.
    Started(String),
    Progress(u8),
    Became(Status),
}

impl TimelineEvent {
    pub fn text(&self, lang: Lang) -> String {
        let s = lang.strings();
        match self {
            Self::Seen(status, p) => fill(s.tl_seen, &[s.status_name(*status), &p.to_string()]),
            Self::Started(task) => fill(s.tl_started, &[task]),
            Self::Progress(p) => fill(s.tl_progress, &[&p.to_string()]),
            Self::Became(status) => fill(s.tl_status, &[s.status_name(*status)]),
        }
    }
}

/// One piece of in-flight work (an image being imported, created or copied).
#[derive(Clone, Debug)]
pub struct Job {
    pub key: RowKey,
    pub name: String,
    pub state: JobState,
    pub status: Status,
    pub progress: u8,
    /// Whether the API reports a percentage for this work (ENS does not).
    pub reports_progress: bool,
    /// First observation (time, progress), for the rate.
    first: (f64, u8),
    pub last_change_secs: f64,
    pub timeline: Vec<TimelineEntry>,
}

/// Progress points between two timeline entries (so a long job keeps a short timeline).
const TIMELINE_STEP: u8 = 10;

impl Job {
    /// Percent per minute since first observed; `None` until progress moved.
    pub fn rate_per_min(&self, now_secs: f64) -> Option<f64> {
        let elapsed = now_secs - self.first.0;
        let gained = f64::from(self.progress.saturating_sub(self.first.1));
        (elapsed > 0.5 && gained > 0.0).then(|| gained / elapsed * 60.0)
    }

    /// Estimated time left at the observed rate.
    pub fn eta(&self, now_secs: f64) -> Option<Duration> {
        let rate = self.rate_per_min(now_secs)?;
        let left = f64::from(100u8.saturating_sub(self.progress));
        Some(Duration::from_secs_f64(left / rate * 60.0))
    }

    fn push(&mut self, at_secs: f64, what: TimelineEvent) {
        self.timeline.push(TimelineEntry { at_secs, what });
    }
}

/// Something the user should hear about (a toast).
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    Finished { name: String, id: String },
    Failed { name: String, id: String },
}

/// The Activity board.
#[derive(Clone, Debug, Default)]
pub struct JobBoard {
    pub jobs: Vec<Job>,
}

impl JobBoard {
    /// ImageDesk started this work itself.
    pub fn started(&mut self, key: RowKey, name: String, task_id: String, now_secs: f64) {
        if self.jobs.iter().any(|j| j.key == key) {
            return;
        }
        let mut job = Job {
            key,
            name,
            state: JobState::Running,
            status: Status::Creating,
            progress: 0,
            reports_progress: true,
            first: (now_secs, 0),
            last_change_secs: now_secs,
            timeline: Vec::new(),
        };
        job.push(now_secs, TimelineEvent::Started(task_id));
        self.jobs.push(job);
    }

    /// Fold in a fresh observation of a row; returns what finished or failed.
    pub fn observe(&mut self, row: &ImageRow, now_secs: f64) -> Option<Notice> {
        let key = row.key();
        let progress = row.progress.unwrap_or(0);
        let Some(job) = self.jobs.iter_mut().find(|j| j.key == key && j.state == JobState::Running) else {
            if row.status.in_flight() && !self.jobs.iter().any(|j| j.key == key) {
                let mut job = Job {
                    key,
                    name: row.name.clone(),
                    state: JobState::Running,
                    status: row.status,
                    progress,
                    reports_progress: row.progress.is_some(),
                    first: (now_secs, progress),
                    last_change_secs: now_secs,
                    timeline: Vec::new(),
                };
                job.push(now_secs, TimelineEvent::Seen(row.status, progress));
                self.jobs.push(job);
            }
            return None;
        };
        job.name.clone_from(&row.name);
        job.reports_progress |= row.progress.is_some();
        if progress > job.progress {
            let last_logged = job
                .timeline
                .iter()
                .rev()
                .find_map(|e| match e.what {
                    TimelineEvent::Progress(p) | TimelineEvent::Seen(_, p) => Some(p),
                    _ => None,
                })
                .unwrap_or(0);
            if progress >= last_logged.saturating_add(TIMELINE_STEP) && row.status.in_flight() {
                job.push(now_secs, TimelineEvent::Progress(progress));
            }
            job.progress = progress;
            job.last_change_secs = now_secs;
        }
        if row.status != job.status {
            job.status = row.status;
            job.last_change_secs = now_secs;
            job.push(now_secs, TimelineEvent::Became(row.status));
        }
        if row.status.in_flight() {
            return None;
        }
        let notice = if row.status == Status::Failed {
            job.state = JobState::Failed;
            Notice::Failed { name: row.name.clone(), id: row.id.clone() }
        } else {
            job.state = JobState::Succeeded;
            job.progress = 100;
            Notice::Finished { name: row.name.clone(), id: row.id.clone() }
        };
        Some(notice)
    }

    /// A running job's image vanished (deleted or import cancelled).
    pub fn gone(&mut self, key: &RowKey, now_secs: f64) {
        for job in self.jobs.iter_mut().filter(|j| &j.key == key && j.state == JobState::Running) {
            job.state = JobState::Failed;
            job.status = Status::Unknown;
            job.push(now_secs, TimelineEvent::Became(Status::Unknown));
        }
    }

    pub fn running(&self) -> usize {
        self.jobs.iter().filter(|j| j.state == JobState::Running).count()
    }

    pub fn clear_finished(&mut self) {
        self.jobs.retain(|j| j.state == JobState::Running);
    }
}

/// `1 h 05 min`, `4 min 10 s`, `12 s`.
pub fn human_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {:02} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, progress: &str) -> ImageRow {
        super::super::model::test_ecs_row("m-1", "imp", status, progress)
    }

    #[test]
    fn cadence_is_fast_while_moving_and_backs_off_to_the_ceiling() {
        let policy = PollPolicy { fast: Duration::from_secs(2), slow: Duration::from_secs(10), growth: 2.0 };
        let mut cadence = PollCadence::new(policy);
        assert_eq!(cadence.next(true), Duration::from_secs(2));
        assert_eq!(cadence.next(false), Duration::from_secs(4));
        assert_eq!(cadence.next(false), Duration::from_secs(8));
        assert_eq!(cadence.next(false), Duration::from_secs(10));
        assert_eq!(cadence.next(false), Duration::from_secs(10));
        assert_eq!(cadence.next(true), Duration::from_secs(2));
        cadence.next(false);
        cadence.reset();
        assert_eq!(cadence.current(), Duration::from_secs(2));
    }

    #[test]
    fn a_job_is_seen_tracks_progress_and_finishes_with_a_notice() {
        let mut board = JobBoard::default();
        assert_eq!(board.observe(&row("Available", "100%"), 0.0), None);
        assert!(board.jobs.is_empty(), "finished images are not jobs");
        assert_eq!(board.observe(&row("Creating", "10%"), 0.0), None);
        assert_eq!(board.running(), 1);
        board.observe(&row("Creating", "15%"), 30.0);
        board.observe(&row("Creating", "40%"), 60.0);
        let job = &board.jobs[0];
        assert_eq!(job.progress, 40);
        assert_eq!(job.rate_per_min(60.0), Some(30.0));
        assert_eq!(job.eta(60.0), Some(Duration::from_secs(120)));
        let notice = board.observe(&row("Available", "100%"), 90.0);
        assert_eq!(notice, Some(Notice::Finished { name: "imp".into(), id: "m-1".into() }));
        let job = &board.jobs[0];
        assert_eq!(job.state, JobState::Succeeded);
        let events: Vec<_> = job.timeline.iter().map(|e| e.what.clone()).collect();
        assert_eq!(
            events,
            [
                TimelineEvent::Seen(Status::Creating, 10),
                TimelineEvent::Progress(40),
                TimelineEvent::Became(Status::Available)
            ],
            "15% is within one step of 10% and not logged"
        );
        assert_eq!(board.observe(&row("Available", "100%"), 95.0), None, "no second notice");
        board.clear_finished();
        assert!(board.jobs.is_empty());
    }

    #[test]
    fn failure_is_a_notice_and_vanishing_fails_the_job() {
        let mut board = JobBoard::default();
        board.started(row("Creating", "0%").key(), "imp".into(), "t-1".into(), 0.0);
        assert_eq!(board.jobs[0].timeline[0].what, TimelineEvent::Started("t-1".into()));
        assert_eq!(
            board.observe(&row("CreateFailed", "30%"), 5.0),
            Some(Notice::Failed { name: "imp".into(), id: "m-1".into() })
        );
        assert_eq!(board.jobs[0].state, JobState::Failed);
        let mut board = JobBoard::default();
        board.observe(&row("Creating", "0%"), 0.0);
        board.gone(&row("Creating", "0%").key(), 1.0);
        assert_eq!((board.running(), board.jobs[0].state), (0, JobState::Failed));
        assert_eq!(board.jobs[0].rate_per_min(1.0), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(12)), "12 s");
        assert_eq!(human_duration(Duration::from_secs(250)), "4 min 10 s");
        assert_eq!(human_duration(Duration::from_secs(3900)), "1 h 05 min");
    }
}
