//! The worker's side of the queue API.

use anyhow::{bail, Context};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// A leased job as the API hands it out.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub attempts: u32,
    pub lease: String,
    pub lease_until_ms: i64,
}

/// What came of a call that needs the lease.
#[derive(Debug, PartialEq, Eq)]
pub enum Leased<T> {
    Ok(T),
    /// The lease expired or another worker holds the job now.
    Lost,
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
    pub async fn claim(&self, kinds: &[&str], wait: Duration) -> anyhow::Result<Option<Job>> {
        let body = json!({ "kinds": kinds, "wait_ms": wait.as_millis() as u64 });
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
            status => bail!("input answered {status}: {}", response.text().await.unwrap_or_default()),
        }
    }

    /// Stores the job's output (the searchable PDF) and returns its digest.
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
                let answer: Value = response.json().await.context("output response")?;
                let digest = answer["digest"].as_str().context("output response without a digest")?;
                Ok(Leased::Ok(digest.to_owned()))
            }
            StatusCode::CONFLICT => Ok(Leased::Lost),
            status => bail!("output answered {status}: {}", response.text().await.unwrap_or_default()),
        }
    }

    async fn leased_post(&self, job: &Job, action: &str, body: Value) -> anyhow::Result<Leased<Value>> {
        let response = self.post(&format!("/jobs/{}/{action}", job.id)).json(&body).send().await.context(action.to_owned())?;
        match response.status() {
            StatusCode::OK => Ok(Leased::Ok(response.json().await.unwrap_or(Value::Null))),
            StatusCode::CONFLICT => Ok(Leased::Lost),
            status => bail!("{action} answered {status}: {}", response.text().await.unwrap_or_default()),
        }
    }

    pub async fn heartbeat(&self, job: &Job) -> anyhow::Result<Leased<Value>> {
        self.leased_post(job, "heartbeat", json!({ "lease": job.lease })).await
    }

    pub async fn complete(&self, job: &Job, result: Value) -> anyhow::Result<Leased<Value>> {
        self.leased_post(job, "complete", json!({ "lease": job.lease, "result": result })).await
    }

    pub async fn fail(&self, job: &Job, code: &str, message: &str, permanent: bool) -> anyhow::Result<Leased<Value>> {
        // the service refuses hidden characters in free text; an error may quote any input
        let message: String =
            message.chars().map(|c| if sohoa::domain::hidden_character(&c.to_string()).is_some() { '\u{FFFD}' } else { c }).collect();
        let body = json!({ "lease": job.lease, "code": code, "message": message, "permanent": permanent });
        self.leased_post(job, "fail", body).await
    }
}
