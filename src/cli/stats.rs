//! `sohoa stats 766 --month YYYY-MM [--agency CODE] [--json]`: the Decision 766 service
//! indicators of an agency for a month, from the index.

use super::EXIT_INPUT;
use crate::config::Config;
use crate::domain::indicators::{self, Month};
use crate::domain::AgencyCode;
use crate::index;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum StatsCommand {
    /// Decision 766 indicators: 2.1 on time, 4.1 electronic results, 4.2 digitized, 4.3 reuse
    #[command(name = "766")]
    Decision766 {
        /// The month, YYYY-MM (Vietnam time)
        #[arg(long)]
        month: String,
        /// The agency; the configured agency by default
        #[arg(long)]
        agency: Option<String>,
        /// Print the report as JSON (as `GET /api/v1/stats/766` answers)
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: StatsCommand, config: Config) -> ExitCode {
    let StatsCommand::Decision766 { month, agency, json } = command;
    let Some(month) = Month::parse(&month) else {
        eprintln!("error: --month must be YYYY-MM, not {month:?}");
        return ExitCode::from(EXIT_INPUT);
    };
    let agency = match AgencyCode::parse(agency.as_deref().unwrap_or(&config.agency)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let facts = match index::open(&config.index_url).await {
        Ok(index) => {
            let (from, to) = month.bounds_ms();
            index.dossier_facts(&agency, from, to).await
        }
        Err(e) => Err(e),
    };
    let facts = match facts {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot read the index: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        println!("{}", indicators::report(agency.as_str(), month, &facts));
        return ExitCode::SUCCESS;
    }
    println!("Decision 766 indicators of {agency} for {month} (full points at {:.0} %)", indicators::FULL_POINTS_AT * 100.0);
    for i in indicators::compute(&facts, month) {
        let rate = i.rate.map_or("-".to_owned(), |r| format!("{:.1} %", r * 100.0));
        let score = i.score.map_or("-".to_owned(), |s| format!("{:.0} %", s * 100.0));
        println!("{:<4} {:<45} {:>5}/{:<5} {:>8}   points {score}", i.code, i.name, i.numerator, i.denominator, rate);
    }
    ExitCode::SUCCESS
}
