//! What a command says of one database beside its name, status and error: one type per
//! kind of result, each built by its command. In JSON a detail's fields sit beside `name`
//! and `status`, under the names they have always had.

use super::live::{ConvergeInfo, SchemaInfo};
use super::{DriftInfo, ForeignHistory, ModelInfo};
use schemars::JsonSchema;
use serde::Serialize;
use skein_core::Version;
use skein_core::engine::{HistoryEdit, StepReport};
use skein_core::plan::{Entry, Plan, Problem};

/// One database's result, by the kind of command that produced it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Detail {
    /// `up`, `down`, `redo`, `db reset`: what ran.
    Run(Run),
    /// `up`/`down` with `--dry-run` or `--sql`: what would run.
    Plan(PlanDetail),
    /// `status`: where the database stands against its migrations.
    Status(StatusDetail),
    /// `history`: the status and every migration, applied or not.
    History(HistoryDetail),
    /// `model list`: the status and where the model comes from.
    Model(ModelDetail),
    /// `stamp`, `repair`, `adopt`: what changed in the history table.
    Edits(EditsDetail),
    /// `inspect`: the live schema.
    Inspect(SchemaInfo),
    /// `drift`: the live schema against the one its migrations give.
    Drift(DriftDetail),
    /// `check`: the expect rules' findings.
    Check(CheckDetail),
    /// `converge`: the plan to bring the schema to its migrations, and what applying it did.
    Converge(ConvergeDetail),
    /// `lint`: the findings in the migrations linted.
    Lint(LintDetail),
    /// Nothing beside the status: `db create`, `db drop`, `wait`, a database skipped, or
    /// one that failed before the command read anything of it.
    None {},
}

/// What `up`, `down`, `redo` and `db reset` did.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct Run {
    /// `up --create` or `db reset` created the database.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
    pub version_before: Option<Version>,
    pub version_after: Option<Version>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepReport>,
    /// What blocked the plan (a migration edited after it was applied, one missing...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// The lint findings in the pending migrations (`[lint] on_up`); with `refused`, why
    /// nothing ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lint: Option<skein_core::lint::Outcome>,
}

/// What `--dry-run` or `--sql` would do.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlanDetail {
    /// `up --create` created the database.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
    pub version_before: Option<Version>,
    pub version_after: Option<Version>,
    pub plan: Plan,
    /// `--sql`: the script, headed by the database it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
}

/// Where a database stands: its version, the head of its migrations, how many are
/// pending and what is wrong with those applied.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct StatusDetail {
    pub version_before: Option<Version>,
    pub version_after: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// Another tool's history table (`alembic_version`...) in the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_history: Option<ForeignHistory>,
}

/// `history`: the status and each migration.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryDetail {
    #[serde(flatten)]
    pub status: StatusDetail,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<Entry>,
}

/// `model list`: the status and the model's origin.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelDetail {
    #[serde(flatten)]
    pub status: StatusDetail,
    /// Where the model's name came from and its template's head.
    pub model: ModelInfo,
}

/// `stamp`, `repair` and `adopt`: the rows changed.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct EditsDetail {
    pub version_before: Option<Version>,
    pub version_after: Option<Version>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<HistoryEdit>,
    /// `adopt`: the other tool's table the history was taken from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_history: Option<ForeignHistory>,
}

/// `drift`: the database's version and how its schema compares.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DriftDetail {
    pub version_before: Option<Version>,
    pub version_after: Option<Version>,
    pub drift: DriftInfo,
}

/// `check`: the expect rules' findings (none: every rule holds).
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckDetail {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<skein_core::schema::rules::Finding>,
}

/// `converge`: the head of the database's migrations and the plan to reach their schema.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConvergeDetail {
    pub version_after: Option<Version>,
    pub converge: ConvergeInfo,
}

/// `lint`: the findings, and how many statements were read.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LintDetail {
    pub lint: skein_core::lint::Outcome,
}

impl Detail {
    /// What ran, for `up`, `down`, `redo` and `db reset`.
    pub fn run(&self) -> Option<&Run> {
        match self {
            Detail::Run(run) => Some(run),
            _ => None,
        }
    }

    /// The status part of `status`, `history` and `model list`.
    pub fn status(&self) -> Option<&StatusDetail> {
        match self {
            Detail::Status(status) => Some(status),
            Detail::History(history) => Some(&history.status),
            Detail::Model(model) => Some(&model.status),
            _ => None,
        }
    }

    /// The version before and after the command, where the command knows them.
    pub fn versions(&self) -> (Option<Version>, Option<Version>) {
        match self {
            Detail::Run(run) => (run.version_before, run.version_after),
            Detail::Plan(plan) => (plan.version_before, plan.version_after),
            Detail::Edits(edits) => (edits.version_before, edits.version_after),
            Detail::Drift(drift) => (drift.version_before, drift.version_after),
            Detail::Converge(converge) => (None, converge.version_after),
            Detail::Status(_) | Detail::History(_) | Detail::Model(_) => self
                .status()
                .map_or((None, None), |s| (s.version_before, s.version_after)),
            Detail::Inspect(_) | Detail::Check(_) | Detail::Lint(_) | Detail::None {} => {
                (None, None)
            }
        }
    }

    /// The steps a run took (none for other commands).
    pub fn steps(&self) -> &[StepReport] {
        self.run().map_or(&[], |run| &run.steps)
    }

    /// What is wrong with the applied migrations (`status`), or blocked a run's plan.
    pub fn problems(&self) -> &[Problem] {
        match (self.run(), self.status()) {
            (Some(run), _) => &run.problems,
            (_, Some(status)) => &status.problems,
            _ => &[],
        }
    }

    /// The lint findings: `lint`'s, or those `up` found in its pending migrations.
    pub fn lint(&self) -> Option<&skein_core::lint::Outcome> {
        match self {
            Detail::Lint(lint) => Some(&lint.lint),
            Detail::Run(run) => run.lint.as_ref(),
            _ => None,
        }
    }
}
