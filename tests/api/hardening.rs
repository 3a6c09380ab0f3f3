//! Hostile and broken clients: slow or stalled connections, oversized request heads, bodies
//! of the wrong media type, hidden characters in text, and truncated images.

use crate::common::{assert_problem, png, TestApp};
use image::{GrayImage, ImageFormat, Luma};
use serde_json::json;
use sohoa::config::Interval;
use sohoa::domain::Role;
use std::io::Cursor;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const BODY_GRACE: Duration = Duration::from_secs(1);

async fn slow_client_app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.header_timeout = Interval(HEADER_TIMEOUT);
        c.body_grace = Interval(BODY_GRACE);
        c.body_min_rate = 1024;
    })
    .await
}

/// Writes `request`, then reads until the server closes the connection; returns what it
/// answered and when it closed, or fails when it is still open after `within`.
async fn closed_after(app: &TestApp, request: &[u8], within: Duration) -> (String, Duration) {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the connection was still open after {within:?}");
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

#[tokio::test]
async fn idle_connections_partial_headers_and_stalled_bodies_are_closed() {
    let app = slow_client_app().await;
    // Bounds, not benchmarks: closed no sooner than half the timeout, and well before a
    // client holding the connection would notice.
    let bound = HEADER_TIMEOUT + Duration::from_secs(5);
    let (_, idle) = closed_after(&app, b"", bound).await;
    assert!(idle >= HEADER_TIMEOUT / 2, "an idle connection closed after only {idle:?}");
    let (_, partial) = closed_after(&app, b"GET /healthz HTTP/1.1\r\nHost: sohoa\r\nX-Slow: ", bound).await;
    assert!(partial >= HEADER_TIMEOUT / 2, "partial headers closed after only {partial:?}");

    let head = format!(
        "POST /api/v1/dossiers HTTP/1.1\r\nHost: sohoa\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{{\"procedure\":",
        app.token(Role::Scanner)
    );
    let (answer, stalled) = closed_after(&app, head.as_bytes(), BODY_GRACE + Duration::from_secs(5)).await;
    assert!(stalled >= BODY_GRACE / 2, "a stalled body closed after only {stalled:?}");
    if !answer.is_empty() {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("body_timeout"), "{answer}");
    }

    // A keep-alive connection waiting for its next request is closed too.
    let (answer, _) = closed_after(&app, b"GET /healthz HTTP/1.1\r\nHost: sohoa\r\n\r\n", bound).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let response = app.http.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(response.status(), 200, "the service still answers");
    app.stop().await;
}

#[tokio::test]
async fn oversized_request_targets_and_headers_are_problems() {
    let app = TestApp::spawn().await;
    let long = format!("/procedures?q={}", "a".repeat(9000));
    assert_problem(app.get(app.token(Role::Scanner), &long).await, 414, "uri_too_long").await;
    let big = "b".repeat(40 * 1024);
    let response = app.http.get(app.url("/procedures")).bearer_auth(app.token(Role::Scanner)).header("x-big", big).send().await.unwrap();
    assert_problem(response, 431, "headers_too_large").await;
    let mut many = app.http.get(app.url("/procedures")).bearer_auth(app.token(Role::Scanner));
    for i in 0..120 {
        many = many.header(format!("x-h{i}"), "v");
    }
    assert_problem(many.send().await.unwrap(), 431, "headers_too_large").await;
    app.stop().await;
}

#[tokio::test]
async fn json_routes_require_json_and_text_may_not_hide_characters() {
    let app = TestApp::spawn().await;
    let before = app.footprint().await;
    let body = json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": "001303012345", "name": "An"}});
    let url = app.url("/dossiers");
    let token = app.token(Role::Scanner);
    let plain = app.http.post(&url).bearer_auth(token).header("content-type", "text/plain").body(body.to_string()).send().await.unwrap();
    assert_problem(plain, 415, "unsupported_media_type").await;
    let none = app.http.post(&url).bearer_auth(token).body(body.to_string()).send().await.unwrap();
    assert_problem(none, 415, "unsupported_media_type").await;
    for name in ["Nguyễn \u{202E}nA", "An\u{2066}x\u{2069}", "An\u{0007}", "An\u{009B}"] {
        let body = json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": "001303012345", "name": name}});
        let response = app.http.post(&url).bearer_auth(token).json(&body).send().await.unwrap();
        assert_problem(response, 422, "forbidden_character").await;
    }
    assert_eq!(app.footprint().await, before, "nothing was written");
    let charset = app.http.post(&url).bearer_auth(token).header("content-type", "application/json; charset=utf-8").body(body.to_string());
    assert_eq!(charset.send().await.unwrap().status(), 201);
    app.stop().await;
}

fn encoded(format: ImageFormat) -> Vec<u8> {
    let img = GrayImage::from_fn(600, 400, |x, y| Luma([((x * 13 + y * 7) % 251) as u8]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn truncated_images_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let before = app.footprint().await;
    let token = app.token(Role::Scanner);
    let whole_png = png(600, 400);
    let jpeg = encoded(ImageFormat::Jpeg);
    let tiff = encoded(ImageFormat::Tiff);
    let cuts = [
        ("png cut before IEND", whole_png[..whole_png.len() - 12].to_vec()),
        ("jpeg cut inside its scan", jpeg[..jpeg.len() * 7 / 10].to_vec()),
        ("jpeg without its end marker", jpeg[..jpeg.len() - 2].to_vec()),
        ("tiff cut inside its strips", tiff[..tiff.len() * 6 / 10].to_vec()),
    ];
    for (what, bytes) in cuts {
        let response = app.upload(token, &code, "hospital_birth_notice", bytes, None).await;
        assert_eq!(response.status(), 422, "{what}");
        assert_problem(response, 422, "corrupt_image").await;
    }
    assert_eq!(app.footprint().await, before, "nothing was stored");
    let whole = app.upload(token, &code, "hospital_birth_notice", jpeg, None).await;
    assert_eq!(whole.status(), 202, "the whole JPEG is taken");
    app.stop().await;
}
