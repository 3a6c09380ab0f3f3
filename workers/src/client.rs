//! The worker's side of the queue API.

use anyhow::{bail, Context};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
pub use sohoa_protocol::job::Claimed as Job;
use sohoa_protocol::job::{
    ClaimRequest, CompleteBody, Completion, FailBody, Failure, JobKind, LeaseBody, LeaseExtended, Reported, StoredOutput,
};
use std::time::Duration;

/// What came of a call that needs the lease.
#[derive(Debug, PartialEq, Eq)]
pub enum Leased<T> {
    Ok(T),
    /// The lease expired or another worker holds the job now.
    Lost,
    /// The service answered 503: its archive or index is down for now.
    Unavailable(Outage),
}

/// A 503 answer: the service's code for what is down, and when to ask again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub code: String,
    pub retry_after: Duration,
}

impl Outage {
    async fn read(response: reqwest::Response) -> Outage {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .map_or(Duration::from_secs(1), Duration::from_secs);
        #[derive(serde::Deserialize)]
        struct Answer {
            code: String,
        }
        let code = response.json::<Answer>().await.map_or_else(|_| String::from("service_unavailable"), |a| a.code);
        Outage { code, retry_after }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    api: String,
    token: String,
}

impl Client {
    pub fn new(api: &str, token: &str) -> anyhow::Result<Client> {
        // The service closes a connection idle for its header_timeout (10 s by default); a
        // pooled connection kept longer may be reused just as it closes, failing a report.
        let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).pool_idle_timeout(Duration::from_secs(5)).build()?;
        Ok(Client { http, api: format!("{}/api/v1", api.trim_end_matches('/')), token: token.to_owned() })
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.api)).bearer_auth(&self.token)
    }

    /// Waits up to `wait` for a job of `kinds`.
    pub async fn claim(&self, kinds: &[JobKind], wait: Duration) -> anyhow::Result<Option<Job>> {
        let body = ClaimRequest { kinds: kinds.to_vec(), wait_ms: wait.as_millis() as u64 };
        let response = self.post("/jobs/claim").json(&body).send().await.context("claim")?;
        match response.status() {
            StatusCode::NO_CONTENT => Ok(None),
            StatusCode::OK => Ok(Some(response.json().await.context("claim response")?)),
            status => bail!("claim answered {status}: {}", response.text().await.unwrap_or_default()),
        }
    }

    pub async fn input(&self, job: &Job) -> anyhow::Result<Leased<bytes::Bytes>> {
        let url = format!("{}/jobs/{}/input", self.api, job.id);
        let response = self.http.get(url).bearer_auth(&self.token).query(&[("lease", &job.lease)]).send().await.context("input")?;
        match response.status() {
            StatusCode::OK => Ok(Leased::Ok(response.bytes().await.context("input body")?)),
            StatusCode::CONFLICT => Ok(Leased::Lost),
            StatusCode::SERVICE_UNAVAILABLE => Ok(Leased::Unavailable(Outage::read(response).await)),
            status => bail!("input answered {status}: {}", response.text().await.unwrap_or_default()),
        }
    }

    /// Stores the job's recognition (JSON) in the archive and returns its digest.
    pub async fn output(&self, job: &Job, recognition: Vec<u8>) -> anyhow::Result<Leased<String>> {
        let response = self
            .post(&format!("/jobs/{}/output", job.id))
            .query(&[("lease", &job.lease)])
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(recognition)
            .send()
            .await
            .context("output")?;
        match response.status() {
            StatusCode::OK => {
                let answer: StoredOutput = response.json().await.context("output response")?;
                Ok(Leased::Ok(answer.digest))
            }
            StatusCode::CONFLICT => Ok(Leased::Lost),
            StatusCode::SERVICE_UNAVAILABLE => Ok(Leased::Unavailable(Outage::read(response).await)),
            status => bail!("output answered {status}: {}", response.text().await.unwrap_or_default()),
        }
    }

    async fn leased_post<A: DeserializeOwned>(&self, job: &Job, action: &str, body: &impl Serialize) -> anyhow::Result<Leased<A>> {
        let response = self.post(&format!("/jobs/{}/{action}", job.id)).json(body).send().await.context(action.to_owned())?;
        match response.status() {
            StatusCode::OK => Ok(Leased::Ok(response.json().await.with_context(|| format!("{action} response"))?)),
            StatusCode::CONFLICT => Ok(Leased::Lost),
            StatusCode::SERVICE_UNAVAILABLE => Ok(Leased::Unavailable(Outage::read(response).await)),
            status => bail!("{action} answered {status}: {}", response.text().await.unwrap_or_default()),
        }
    }

    pub async fn heartbeat(&self, job: &Job) -> anyhow::Result<Leased<LeaseExtended>> {
        self.leased_post(job, "heartbeat", &LeaseBody { lease: job.lease.clone() }).await
    }

    pub async fn complete(&self, job: &Job, result: Completion) -> anyhow::Result<Leased<Reported>> {
        self.leased_post(job, "complete", &CompleteBody { lease: job.lease.clone(), result }).await
    }

    pub async fn fail(&self, job: &Job, code: &str, message: &str, permanent: bool) -> anyhow::Result<Leased<Reported>> {
        // the service refuses hidden characters in free text; an error may quote any input
        let message: String = message
            .chars()
            .map(|c| if sohoa_protocol::domain::hidden_character(&c.to_string()).is_some() { '\u{FFFD}' } else { c })
            .collect();
        let failure = Failure { code: code.to_owned(), message, permanent };
        self.leased_post(job, "fail", &FailBody { lease: job.lease.clone(), failure }).await
    }
}
