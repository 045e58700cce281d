//! One progress bar per table (on a terminal only) and the closing summary table.

use std::{io::IsTerminal, time::Duration};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::load::TableStat;

pub struct Bars {
    multi: MultiProgress,
}

impl Bars {
    /// Bars drawn on stderr when it is a terminal (and `enabled`), hidden otherwise.
    pub fn new(enabled: bool) -> Bars {
        let target = if enabled && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
        }
    }

    pub fn table(&self, store: &str, table: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>30} [{bar:32}] {human_pos:>10}/{human_len:<10} {per_sec:>12} {elapsed:>4}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{store} {table}"));
        bar
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The summary: one line per table (store, table, rows, seconds), then the total.
pub fn summary(profile: &str, stats: &[TableStat], generation: Duration, total: Duration) -> String {
    let mut out = format!("{:<8} {:<32} {:>12} {:>9}\n", "store", "table", "rows", "seconds");
    for s in stats {
        out.push_str(&format!(
            "{:<8} {:<32} {:>12} {:>9.2}\n",
            s.store.name(),
            s.table,
            if s.rows == 0 && s.table.starts_with('(') {
                String::new()
            } else {
                thousands(s.rows)
            },
            s.elapsed.as_secs_f64()
        ));
    }
    let rows: u64 = stats.iter().map(|s| s.rows).sum();
    out.push_str(&format!(
        "generation (in parallel with loading): {:.1} s\n",
        generation.as_secs_f64()
    ));
    out.push_str(&format!(
        "{profile} profile: {} rows in {:.1} s\n",
        thousands(rows),
        total.as_secs_f64()
    ));
    out
}
