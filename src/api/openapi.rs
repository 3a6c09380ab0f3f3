//! The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`. Built from
//! small pieces so every operation states its roles, parameters and error answers the same
//! way; `tests/openapi.rs` runs schemathesis against the running service with it.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// `GET /api/v1/openapi.json`, without a token: the description is public.
pub async fn serve() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| document().to_string());
    ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn digest() -> Value {
    json!({"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn path(name: &str, kind: Value, about: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": kind, "description": about})
}

fn query(name: &str, kind: Value, about: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": kind, "description": about})
}

fn required_query(name: &str, kind: Value, about: &str) -> Value {
    json!({"name": name, "in": "query", "required": true, "schema": kind, "description": about})
}

fn limit() -> Value {
    query("limit", json!({"type": "integer", "minimum": 0, "maximum": 4294967295u32}), "page size; clamped to the route's range")
}

fn query_day(about: &str) -> Value {
    json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": about})
}

fn json_body(kind: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": kind}}})
}

fn bytes_body(types: &[&str]) -> Value {
    let content: Map<String, Value> =
        types.iter().map(|t| (t.to_string(), json!({"schema": {"type": "string", "format": "binary"}}))).collect();
    json!({"required": true, "content": content})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

/// One operation. `ok` is (status, media types separated by ", ", schema); `errors` adds to the answers
/// every authenticated route can give (400 malformed parameters, 401, 403, 414, 431, and 415
/// for JSON bodies).
struct Op {
    summary: &'static str,
    roles: &'static str,
    params: Vec<Value>,
    body: Option<Value>,
    ok: Vec<(u16, &'static str, Value)>,
    errors: &'static [u16],
    /// Served without a token.
    public: bool,
}

impl Op {
    fn new(summary: &'static str, roles: &'static str) -> Op {
        Op { summary, roles, params: vec![], body: None, ok: vec![], errors: &[], public: false }
    }
    fn public(mut self) -> Op {
        self.public = true;
        self
    }
    fn params(mut self, params: Vec<Value>) -> Op {
        self.params = params;
        self
    }
    fn body(mut self, body: Value) -> Op {
        self.body = Some(body);
        self
    }
    fn ok(mut self, status: u16, media: &'static str, kind: Value) -> Op {
        self.ok.push((status, media, kind));
        self
    }
    fn errors(mut self, errors: &'static [u16]) -> Op {
        self.errors = errors;
        self
    }

    fn build(self) -> Value {
        let mut responses = Map::new();
        for (status, media, kind) in self.ok {
            let answer = if media.is_empty() {
                json!({"description": "no content"})
            } else {
                let content: Map<String, Value> = media.split(", ").map(|m| (m.to_owned(), json!({"schema": kind}))).collect();
                json!({"description": "success", "content": content})
            };
            responses.insert(status.to_string(), answer);
        }
        let takes_json = self.body.as_ref().is_some_and(|b| b["content"]["application/json"].is_object());
        let head = [414, 431];
        let media = if takes_json { &[415][..] } else { &[] };
        let refusals: &[u16] = if self.public { &[400] } else { &[400, 401, 403] };
        for status in refusals.iter().chain(&head).chain(media).chain(self.errors) {
            responses.insert(status.to_string(), json!({"$ref": "#/components/responses/Problem"}));
        }
        let mut op = json!({
            "summary": self.summary,
            "description": format!("Roles: {}.", self.roles),
            "parameters": self.params,
            "responses": responses,
        });
        if let Some(body) = self.body {
            op["requestBody"] = body;
        }
        if self.public {
            op["security"] = json!([]);
        }
        op
    }
}

fn record_id() -> Value {
    path("id", string(), "record id")
}

/// Why a record is read; a consumer must give it for a person's records (400 `purpose_required`).
fn purpose() -> Value {
    query(
        "purpose",
        string(),
        "the dossier code (<agency>-<YYMMDD>-<NNNN>) or procedure code (N.NNNNNN) the read serves, optionally prefixed \
         dossier: or procedure:; required of a consumer reading a person's records (400 purpose_required), kept in the access log",
    )
}

fn result_id() -> Value {
    path("id", string(), "result id")
}

fn job_id() -> Value {
    path("id", json!({"type": "integer", "format": "int64"}), "job id")
}

fn fraction() -> Value {
    json!({"type": "number", "minimum": 0, "maximum": 1})
}

fn scan_id() -> Value {
    path("id", json!({"type": "integer", "format": "int64"}), "scan id")
}

fn lease() -> Value {
    required_query("lease", string(), "the lease the claim handed out")
}

fn reason_body(extra: &[(&str, Value)]) -> Value {
    let mut properties = Map::new();
    properties.insert("reason".into(), json!({"type": "string", "minLength": 1, "maxLength": 1000}));
    let mut required = vec!["reason".to_owned()];
    for (name, kind) in extra {
        properties.insert(name.to_string(), kind.clone());
        required.push(name.to_string());
    }
    json_body(json!({"type": "object", "required": required, "properties": properties, "additionalProperties": false}))
}

fn paths() -> Value {
    let dossier = || path("code", string(), "dossier code `<agency>-<YYMMDD>-<NNNN>`");
    let component = || path("component", string(), "component id from the procedure's checklist");
    let pdf = || json!({"type": "string", "format": "binary"});
    let ops: Vec<(&str, &str, Op)> = vec![
        ("/procedures", "get", Op::new("List procedures", "any").ok(200, "application/json", json!({"type": "object"}))),
        (
            "/procedures/{id}",
            "get",
            Op::new("One procedure with its components", "any")
                .params(vec![path("id", string(), "procedure code or slug")])
                .ok(200, "application/json", json!({"type": "object"}))
                .errors(&[404]),
        ),
        ("/doc-types", "get", Op::new("List document types", "any").ok(200, "application/json", json!({"type": "object"}))),
        (
            "/dossiers",
            "post",
            Op::new("Receive a dossier for a procedure and an applicant", "scanner")
                .body(json_body(schema("NewDossier")))
                .ok(201, "application/json", schema("Dossier"))
                .errors(&[404, 413, 422, 503]),
        ),
        (
            "/dossiers",
            "get",
            Op::new("List the agency's dossiers", "scanner, auditor, admin")
                .params(vec![
                    query("status", string(), "received, complete, …"),
                    query("from", query_day("first day of receipt"), "first day of receipt"),
                    query("to", query_day("last day of receipt"), "last day of receipt"),
                    limit(),
                ])
                .ok(200, "application/json", object(&["dossiers"], json!({"dossiers": {"type": "array", "items": schema("Dossier")}}))),
        ),
        (
            "/dossiers/{code}",
            "get",
            Op::new("A dossier with its checklist, scans and reuse candidates", "scanner, auditor, admin")
                .params(vec![dossier()])
                .ok(200, "application/json", schema("Dossier"))
                .errors(&[404]),
        ),
        (
            "/dossiers/{code}/forward",
            "post",
            Op::new("Hand the dossier on to processing; an incomplete one only with an override reason (audited)", "scanner, admin")
                .params(vec![dossier()])
                .body(json_body(json!({
                    "type": "object", "additionalProperties": false,
                    "properties": {"override_reason": {"type": "string", "minLength": 1, "maxLength": 1000}}
                })))
                .ok(200, "application/json", schema("Dossier"))
                .errors(&[404, 409, 413, 422]),
        ),
        (
            "/dossiers/{code}/components/{component}/scans",
            "post",
            Op::new(
                "Upload a scan of a component (PNG, JPEG, TIFF or PDF); queues its OCR job and answers the quality gate's findings (scan.quality)",
                "scanner",
            )
                .params(vec![
                    dossier(),
                    component(),
                    json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 128}}),
                ])
                .body(bytes_body(&["image/png", "image/jpeg", "image/tiff", "application/pdf", "application/octet-stream"]))
                .ok(202, "application/json", object(&["scan", "job"], json!({"scan": schema("Scan"), "job": {"type": "integer"}})))
                .errors(&[404, 409, 411, 413, 415, 422]),
        ),
        (
            "/dossiers/{code}/components/{component}/reuse",
            "post",
            Op::new("Satisfy a component with an earlier record of the applicant", "scanner")
                .params(vec![dossier(), component()])
                .body(json_body(object(&["record"], json!({"record": string()}))))
                .ok(
                    200,
                    "application/json",
                    object(&["dossier", "record"], json!({"dossier": schema("Dossier"), "record": schema("Record")})),
                )
                .errors(&[404, 413, 422]),
        ),
        (
            "/dossiers/{code}/results",
            "post",
            Op::new("Attach a result document (PDF) to a dossier, to be signed", "signer")
                .params(vec![
                    dossier(),
                    query("type", string(), "document type; the procedure's result type by default"),
                    query("number", string(), "the document's number"),
                    query("signers", string(), "the officials who sign it, in order: signer token labels separated by commas; none: any signer"),
                ])
                .body(bytes_body(&["application/pdf", "application/octet-stream"]))
                .ok(201, "application/json", schema("Result"))
                .errors(&[404, 411, 413, 422]),
        ),
        (
            "/results",
            "get",
            Op::new("The drafts waiting for the caller's signature (named next, or naming nobody and unsigned), oldest first", "signer")
                .params(vec![required_query("waiting", json!({"enum": ["me"]}), "me: waiting for the caller")])
                .ok(200, "application/json", object(&["results"], json!({"results": {"type": "array", "items": schema("Result")}}))),
        ),
        (
            "/results/{id}/pages",
            "get",
            Op::new("Each page of the result's current version as shown, in points, with the map to page coordinates", "signer, auditor, admin")
                .params(vec![result_id()])
                .ok(200, "application/json", object(&["pages"], json!({"pages": {"type": "array", "items": object(
                    &["number", "width", "height", "to_user"],
                    json!({"number": {"type": "integer"}, "width": {"type": "number"}, "height": {"type": "number"},
                           "to_user": {"type": "array", "items": {"type": "number"}, "minItems": 6, "maxItems": 6}})
                )}})))
                .errors(&[404, 422, 500]),
        ),
        (
            "/results/{id}/pages/{page}/preview",
            "get",
            Op::new("A page of the result's current version drawn as a PNG", "signer, auditor, admin")
                .params(vec![
                    result_id(),
                    path("page", json!({"type": "integer", "minimum": 0, "maximum": 4294967295u32}), "page number, from 1"),
                    query("width", json!({"type": "integer", "minimum": 0, "maximum": 4294967295u32}), "pixels, 100 to 1600; 800 by default"),
                ])
                .ok(200, "image/png", json!({"type": "string", "format": "binary"}))
                .errors(&[404, 422, 500]),
        ),
        (
            "/results/{id}",
            "get",
            Op::new("A result with its versions", "signer, auditor, admin")
                .params(vec![result_id()])
                .ok(200, "application/json", schema("Result"))
                .errors(&[404]),
        ),
        (
            "/results/{id}/content",
            "get",
            Op::new("The result's current version, verified on read", "signer, auditor, admin")
                .params(vec![result_id()])
                .ok(200, "application/pdf", pdf())
                .errors(&[404, 500]),
        ),
        (
            "/results/{id}/sign",
            "post",
            Op::new("Sign with the official's server-held key (PAdES B-B, visible)", "signer")
                .params(vec![result_id()])
                .body(json_body(schema("Placement")))
                .ok(200, "application/json", schema("Result"))
                .errors(&[404, 409, 413, 422, 500]),
        ),
        (
            "/results/{id}/signing-digest",
            "get",
            Op::new("Deferred signing: the signed attributes for the official's token to sign, and a session", "signer")
                .params(vec![
                    result_id(),
                    required_query("certificate", string(), "the official's certificate, DER in base64"),
                    query("page", json!({"type": "integer", "minimum": 0, "maximum": 4294967295u32}), "page; the last by default"),
                    query("rect", string(), "x,y,width,height in points"),
                    query("reason", string(), "reason shown in the signature"),
                    query("location", string(), "location shown in the signature"),
                ])
                .ok(200, "application/json", object(&["session", "signed_attributes", "digest_sha256", "algorithm", "expires_at"], json!({
                    "session": string(), "signed_attributes": string(), "digest_sha256": string(), "algorithm": string(), "expires_at": string()
                })))
                .errors(&[404, 409, 422, 500]),
        ),
        (
            "/results/{id}/signature",
            "post",
            Op::new("Deferred signing: post the token's raw signature; the service completes and checks the CMS", "signer")
                .params(vec![result_id()])
                .body(json_body(json!({
                    "type": "object", "required": ["session", "signature"], "additionalProperties": false,
                    "properties": {"session": string(), "signature": string()}
                })))
                .ok(200, "application/json", schema("Result"))
                .errors(&[404, 409, 413, 422, 500]),
        ),
        (
            "/results/{id}/issue",
            "post",
            Op::new("Issue a signed result as a record of the applicant", "signer")
                .params(vec![result_id()])
                .ok(200, "application/json", object(&["result", "record"], json!({"result": schema("Result"), "record": schema("Record")})))
                .errors(&[404, 409, 422, 500]),
        ),
        (
            "/scans/{id}",
            "get",
            Op::new("A scan", "scanner, auditor, admin").params(vec![scan_id()]).ok(200, "application/json", schema("Scan")).errors(&[404]),
        ),
        (
            "/scans/{id}/result",
            "get",
            Op::new("What OCR recognised: pages, words and the searchable PDF's digest", "scanner, auditor, admin")
                .params(vec![scan_id()])
                .ok(200, "application/json", json!({"type": "object"}))
                .errors(&[404, 409]),
        ),
        (
            "/scans/{id}/pdf",
            "get",
            Op::new("The searchable PDF, verified on read", "scanner, auditor, admin")
                .params(vec![scan_id()])
                .ok(200, "application/pdf", pdf())
                .errors(&[404, 409, 500]),
        ),
        (
            "/scans/{id}/pages",
            "get",
            Op::new(
                "Each page of the searchable copy as shown, in points, and the fields of the record standing for the scan with the \
                 boxes of the words they were read from, in fractions of the page as shown from its top left corner",
                "scanner, auditor, admin",
            )
            .params(vec![scan_id()])
            .ok(200, "application/json", object(&["scan", "record", "pages", "fields"], json!({
                "scan": {"type": "integer"},
                "record": {"type": ["string", "null"]},
                "pages": {"type": "array", "items": object(&["page", "width", "height"],
                    json!({"page": {"type": "integer"}, "width": {"type": "number"}, "height": {"type": "number"}}))},
                "fields": {"type": "array", "items": object(&["name", "value", "corrected", "boxes"], json!({
                    "name": {"type": "string"}, "value": {"type": "string"}, "corrected": {"type": "boolean"},
                    "boxes": {"type": "array", "items": object(&["page", "x", "y", "w", "h"], json!({
                        "page": {"type": "integer"}, "x": fraction(), "y": fraction(), "w": fraction(), "h": fraction()}))}}))},
            })))
            .errors(&[404, 409, 422, 500]),
        ),
        (
            "/scans/{id}/pages/{page}/preview",
            "get",
            Op::new("A page of the searchable copy drawn as a PNG", "scanner, auditor, admin")
                .params(vec![
                    scan_id(),
                    path("page", json!({"type": "integer", "minimum": 0, "maximum": 4294967295u32}), "page number, from 1"),
                    query("width", json!({"type": "integer", "minimum": 0, "maximum": 4294967295u32}), "pixels, 100 to 1600; 800 by default"),
                ])
                .ok(200, "image/png", json!({"type": "string", "format": "binary"}))
                .errors(&[404, 409, 422, 500]),
        ),
        (
            "/scans/{id}/correction",
            "post",
            Op::new("Correct a sealed scan's document type and fields; the corrected record supersedes the sealed one", "scanner")
                .params(vec![scan_id()])
                .body(json_body(json!({
                    "type": "object", "required": ["doc_type"], "additionalProperties": false,
                    "properties": {"doc_type": string(), "fields": {"type": "object", "additionalProperties": string()}}
                })))
                .ok(200, "application/json", object(&["record", "replaces", "dossier"], json!({
                    "record": schema("Record"), "replaces": string(), "dossier": schema("Dossier")
                })))
                .errors(&[404, 409, 413, 422, 500]),
        ),
        (
            "/corrections",
            "get",
            Op::new("The agency's corrections, newest first: labelled data for evaluation", "admin, auditor")
                .params(vec![limit()])
                .ok(200, "application/json", object(&["corrections"], json!({"corrections": {"type": "array"}}))),
        ),
        (
            "/jobs",
            "get",
            Op::new("The agency's jobs in one state (dead letters with state=dead)", "admin, auditor, operator (every agency's)")
                .params(vec![required_query("state", string(), "queued, running, done, failed or dead"), limit()])
                .ok(200, "application/json", object(&["jobs"], json!({"jobs": {"type": "array", "items": schema("Job")}}))),
        ),
        (
            "/jobs/claim",
            "post",
            Op::new("Claim the oldest ready job of the given kinds of the token's agency (any agency's for the operator) under a lease, waiting up to wait_ms", "worker, operator")
                .body(json_body(object(
                    &["kinds"],
                    json!({"kinds": {"type": "array", "items": {"enum": ["ocr"]}}, "wait_ms": {"type": "integer", "minimum": 0}}),
                )))
                .ok(200, "application/json", schema("Claimed"))
                .ok(204, "", json!(null))
                .errors(&[413, 422]),
        ),
        (
            "/jobs/{id}/input",
            "get",
            Op::new("The leased job's input (the stored scan, in its own media type), verified against its digest", "worker, operator")
                .params(vec![job_id(), lease()])
                .ok(200, "image/png, image/jpeg, image/tiff, application/pdf", json!({"type": "string", "format": "binary"}))
                .errors(&[404, 409, 503]),
        ),
        (
            "/jobs/{id}/heartbeat",
            "post",
            Op::new("Extend a lease", "worker, operator")
                .params(vec![job_id()])
                .body(json_body(object(&["lease"], json!({"lease": string()}))))
                .ok(200, "application/json", schema("LeaseExtended"))
                .errors(&[404, 409, 413, 422]),
        ),
        (
            "/jobs/{id}/output",
            "post",
            Op::new(
                "Store what a leased job produced, by digest, in the archive: an ocr job's recognition (its words and boxes, JSON; \
                 the service assembles the searchable copy itself); the completion then names it",
                "worker, operator",
            )
            .params(vec![job_id(), lease()])
            .body(json_body(schema("Recognition")))
            .ok(200, "application/json", schema("StoredOutput"))
            .errors(&[404, 409, 411, 413, 422, 503]),
        ),
        (
            "/jobs/{id}/complete",
            "post",
            Op::new("Complete a leased job with its result", "worker, operator")
                .params(vec![job_id()])
                .body(json_body(object(&["lease", "result"], json!({"lease": string(), "result": schema("Completion")}))))
                .ok(200, "application/json", schema("Reported"))
                .errors(&[404, 409, 413, 422, 503]),
        ),
        (
            "/jobs/{id}/fail",
            "post",
            Op::new(
                "Report a failed attempt; retried with backoff or dead. A failure with the code of the service's own 503 \
                 (archive_unavailable, index_unavailable) is retried without using up an attempt",
                "worker, operator",
            )
                .params(vec![job_id()])
                .body(json_body(object(
                    &["lease", "code", "message"],
                    json!({"lease": string(), "code": string(), "message": string(), "permanent": {"type": "boolean"}}),
                )))
                .ok(200, "application/json", schema("Reported"))
                .errors(&[404, 409, 413, 422]),
        ),
        (
            "/jobs/{id}/requeue",
            "post",
            Op::new("Put a dead job back in the queue", "admin, operator")
                .params(vec![job_id()])
                .ok(200, "application/json", schema("Reported"))
                .errors(&[404, 409]),
        ),
        (
            "/imports",
            "post",
            Op::new(
                "Post a back-file batch (the scans or PDFs as files, an optional CSV sheet, the options of sohoa import): stored whole, \
                 then imported in the background as backfile records of the caller's agency; posting the same batch again answers it \
                 (Idempotent-Replayed), and runs it again when it ended with failures",
                "scanner, admin",
            )
            .body(json!({"required": true, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["files"],
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                              "description": "the scans (PNG, JPEG, TIFF) and PDFs, each by its plain file name"},
                    "sheet": {"type": "string", "format": "binary", "description": "the metadata sheet (CSV) as sohoa import --csv reads it"},
                    "split_at_blank": {"type": "boolean"},
                    "dry_run": {"type": "boolean"},
                    "no_ocr": {"type": "boolean"},
                    "agency": {"type": "string", "description": "the caller's own agency, the only one taken"}
                }
            }}}}))
            .ok(202, "application/json", schema("ImportBatch"))
            .errors(&[408, 413, 415, 422, 503]),
        ),
        (
            "/imports/{id}",
            "get",
            Op::new(
                "A back-file batch of the caller's agency: its state (running, done, failed), its counts so far and, once done, its report",
                "scanner, admin, auditor",
            )
            .params(vec![path("id", string(), "batch id, as POST /imports answered it")])
            .ok(200, "application/json", schema("ImportBatch"))
            .errors(&[404]),
        ),
        (
            "/records",
            "get",
            Op::new("Find records by owner, type and day of validity; cursor pagination", "consumer, scanner, auditor, admin")
                .params(vec![
                    query("owner", string(), "owner's citizen id or enterprise code"),
                    query("type", string(), "document type id"),
                    query("valid_at", query_day("only records valid on this day"), "only records valid on this day"),
                    query("cursor", string(), "next_cursor of the previous page"),
                    limit(),
                    purpose(),
                ])
                .ok(
                    200,
                    "application/json",
                    object(
                        &["records", "next_cursor"],
                        json!({"records": {"type": "array", "items": schema("Record")}, "next_cursor": {"type": ["string", "null"]}}),
                    ),
                ),
        ),
        (
            "/records/{id}",
            "get",
            Op::new("A record's metadata: digest, signatures, log index, status", "consumer, scanner, auditor, admin")
                .params(vec![record_id(), purpose()])
                .ok(200, "application/json", schema("Record"))
                .errors(&[404]),
        ),
        (
            "/records/{id}/manifest",
            "get",
            Op::new("The record's canonical JSON manifest (its SHA-256 is the log leaf)", "consumer, scanner, auditor, admin")
                .params(vec![record_id(), purpose()])
                .ok(200, "application/json", json!({"type": "object"}))
                .errors(&[404, 500]),
        ),
        (
            "/records/{id}/content",
            "get",
            Op::new("The sealed or signed PDF, verified on read; ETag, If-None-Match and Range", "consumer, scanner, auditor, admin")
                .params(vec![
                    record_id(),
                    purpose(),
                    json!({"name": "Range", "in": "header", "required": false, "schema": string()}),
                    json!({"name": "If-None-Match", "in": "header", "required": false, "schema": string()}),
                ])
                .ok(200, "application/pdf", pdf())
                .ok(206, "application/pdf", pdf())
                .ok(304, "", json!(null))
                .errors(&[404, 410, 416, 500]),
        ),
        (
            "/records/{id}/proof",
            "get",
            Op::new("The record's inclusion proof in the current log tree, with that tree's signed checkpoint", "consumer, scanner, auditor, admin")
                .params(vec![record_id(), purpose()])
                .ok(200, "application/json", object(
                    &["record", "manifest", "leaf_index", "tree_size", "leaf_hash", "hashes"],
                    json!({
                        "record": string(), "manifest": string(), "leaf_index": {"type": "integer"}, "tree_size": {"type": "integer"},
                        "leaf_hash": string(), "hashes": {"type": "array", "items": string()}, "checkpoint": string()
                    }),
                ))
                .errors(&[404, 409, 500, 503]),
        ),
        (
            "/owners/{id}/access",
            "get",
            Op::new("Reads of the owner's records held by the caller's agency, newest first: who, which agency, when, what and why", "admin, scanner, auditor")
                .params(vec![
                    path("id", string(), "the owner's citizen id or enterprise code"),
                    query("cursor", json!({"type": "integer", "minimum": 0}), "next_cursor of the previous page"),
                    limit(),
                ])
                .ok(200, "application/json", object(&["owner", "agency", "entries", "next_cursor"], json!({
                    "owner": string(), "agency": string(), "next_cursor": {"type": ["integer", "null"]},
                    "entries": {"type": "array", "items": object(
                        &["seq", "at", "reader", "record", "record_agency", "read", "purpose", "request_id"],
                        json!({
                            "seq": {"type": "integer"}, "at": string(),
                            "reader": object(&["token", "label", "role", "agency"], json!({
                                "token": {"type": "integer"}, "label": string(), "role": string(), "agency": string()
                            })),
                            "record": string(), "record_agency": string(),
                            "read": {"type": "string", "enum": ["metadata", "content", "manifest", "proof", "lookup", "reuse"]},
                            "purpose": {"type": ["string", "null"]}, "request_id": string()
                        }),
                    )}
                }))),
        ),
        (
            "/access/checkpoint",
            "get",
            Op::new("The signed checkpoint (C2SP signed note) of the access log's tree, origin `<tlog origin>/access`", "any")
                .ok(200, "text/plain", string())
                .errors(&[500, 503]),
        ),
        (
            "/access/consistency",
            "get",
            Op::new("RFC 9162 consistency proof between two sizes of the access log", "any")
                .params(vec![
                    required_query("from", json!({"type": "integer", "minimum": 0}), "older tree size"),
                    query("to", json!({"type": "integer", "minimum": 0}), "newer tree size; the current one by default"),
                ])
                .ok(200, "application/json", object(&["from", "to", "hashes"], json!({
                    "from": {"type": "integer"}, "to": {"type": "integer"}, "hashes": {"type": "array", "items": string()}
                })))
                .errors(&[500]),
        ),
        (
            "/tlog/checkpoint",
            "get",
            Op::new("The signed checkpoint (C2SP signed note) of the current log tree", "any")
                .ok(200, "text/plain", string())
                .errors(&[500, 503]),
        ),
        (
            "/tlog/consistency",
            "get",
            Op::new("RFC 9162 consistency proof between two tree sizes", "any")
                .params(vec![
                    required_query("from", json!({"type": "integer", "minimum": 0}), "older tree size"),
                    query("to", json!({"type": "integer", "minimum": 0}), "newer tree size; the current one by default"),
                ])
                .ok(200, "application/json", object(&["from", "to", "hashes"], json!({
                    "from": {"type": "integer"}, "to": {"type": "integer"}, "hashes": {"type": "array", "items": string()}
                })))
                .errors(&[500]),
        ),
        (
            "/records/{id}/revoke",
            "post",
            Op::new("Revoke an active record; it stays archived and logged", "admin")
                .params(vec![record_id()])
                .body(reason_body(&[]))
                .ok(200, "application/json", schema("Record"))
                .errors(&[404, 409, 413, 422]),
        ),
        (
            "/records/{id}/supersede",
            "post",
            Op::new("Mark an active record superseded by a newer one", "admin")
                .params(vec![record_id()])
                .body(reason_body(&[("by", string())]))
                .ok(200, "application/json", schema("Record"))
                .errors(&[404, 409, 413, 422]),
        ),
        (
            "/records/{id}/dispose",
            "post",
            Op::new("Dispose of a record past retention and under no hold; manifest, log leaf and audit stay", "admin")
                .params(vec![record_id()])
                .body(reason_body(&[]))
                .ok(200, "application/json", schema("Record"))
                .errors(&[404, 409, 413, 422, 500]),
        ),
        (
            "/holds",
            "post",
            Op::new("Place a legal hold on a record or a dossier", "admin")
                .body(json_body(json!({
                    "type": "object", "required": ["reason"], "additionalProperties": false,
                    "properties": {"record": string(), "dossier": string(), "reason": {"type": "string", "minLength": 1, "maxLength": 1000}}
                })))
                .ok(201, "application/json", schema("Hold"))
                .errors(&[404, 409, 413, 422]),
        ),
        (
            "/holds",
            "get",
            Op::new("The agency's holds", "admin, auditor")
                .params(vec![query("in_force", json!({"type": "boolean"}), "only holds not released"), limit()])
                .ok(200, "application/json", object(&["holds"], json!({"holds": {"type": "array", "items": schema("Hold")}}))),
        ),
        (
            "/holds/{id}/release",
            "post",
            Op::new("Release a hold in force", "admin")
                .params(vec![path("id", json!({"type": "integer", "format": "int64"}), "hold id")])
                .ok(200, "application/json", schema("Hold"))
                .errors(&[404]),
        ),
        (
            "/disposal",
            "get",
            Op::new("Records past retention and under no hold, for an admin's review", "admin, auditor").params(vec![limit()]).ok(
                200,
                "application/json",
                object(&["as_of", "records"], json!({"as_of": string(), "records": {"type": "array", "items": schema("Record")}})),
            ),
        ),
        (
            "/archive/fixity",
            "get",
            Op::new("The latest fixity report: objects checked, missing, corrupt and restored, orphans (leftovers of interrupted writes), each problem's key", "auditor, admin, operator")
                .ok(200, "application/json", object(&["clean"], json!({"clean": {"type": "boolean"}})))
                .errors(&[404]),
        ),
        (
            "/verify",
            "post",
            Op::new("Verification report of a posted PDF against the service's trust anchors, with the records whose content is this very file", "any")
                .body(bytes_body(&["application/pdf", "application/octet-stream"]))
                .ok(
                    200,
                    "application/json",
                    object(&["valid", "signatures", "records"], json!({"valid": {"type": "boolean"}, "signatures": {"type": "array"}, "records": {"type": "array", "items": schema("PublicRecord")}})),
                )
                .errors(&[411, 413, 422]),
        ),
        (
            "/public/verify",
            "post",
            Op::new("The verification report of a posted PDF, for anyone: no token (the desk's public verification page); a few at a time", "none needed")
                .public()
                .body(bytes_body(&["application/pdf", "application/octet-stream"]))
                .ok(
                    200,
                    "application/json",
                    object(&["valid", "signatures", "records"], json!({"valid": {"type": "boolean"}, "signatures": {"type": "array"}, "records": {"type": "array", "items": schema("PublicRecord")}})),
                )
                .errors(&[411, 413, 422, 503]),
        ),
        (
            "/stats/766",
            "get",
            Op::new("The Decision 766 service indicators (2.1, 4.1, 4.2, 4.3) of the caller's agency for a month", "admin, auditor")
                .params(vec![query("month", json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}), "YYYY-MM, Vietnam time")])
                .ok(
                    200,
                    "application/json",
                    object(&["agency", "month", "full_points_at", "indicators"], json!({
                        "agency": string(), "month": string(), "full_points_at": {"type": "number"},
                        "indicators": {"type": "array", "items": object(&["code", "name", "numerator", "denominator", "rate", "score"], json!({
                            "code": string(), "name": string(), "numerator": {"type": "integer"}, "denominator": {"type": "integer"},
                            "rate": {"type": ["number", "null"]}, "score": {"type": ["number", "null"]}
                        }))}
                    })),
                ),
        ),
        (
            "/public/records/{short}",
            "get",
            Op::new("What anyone may see of an issued result or record a verification link names: issuing agency, type, issue date, status, whether it is in the log; no personal data", "none needed")
                .public()
                .params(vec![path("short", string(), "a result's id (kq-...) or a record's id")])
                .ok(200, "application/json", schema("PublicRecord"))
                .errors(&[404]),
        ),
        (
            "/me",
            "get",
            Op::new("Who the token is: its number, role, agency and label", "any").ok(
                200,
                "application/json",
                object(&["id", "role", "agency", "label"], json!({"id": {"type": "integer"}, "role": string(), "agency": string(), "label": string()})),
            ),
        ),
        (
            "/audit",
            "get",
            Op::new("The agency's audit log, newest first", "auditor, admin, operator (every agency's)")
                .params(vec![
                    query("target", string(), "e.g. record:<id> or dossier:<code>"),
                    query("action", string(), "an action (token.create) or its family (token)"),
                    query("actor", string(), "token:<id> or system"),
                    query("from_ms", json!({"type": "integer", "format": "int64"}), "entries at or after, in Unix milliseconds"),
                    query("to_ms", json!({"type": "integer", "format": "int64"}), "entries before, in Unix milliseconds"),
                    limit(),
                ])
                .ok(200, "application/json", object(&["entries"], json!({"entries": {"type": "array"}}))),
        ),
        (
            "/jobs/depth",
            "get",
            Op::new("How many jobs of each kind are queued, running and dead", "admin, auditor (the agency's), operator (every agency's)")
                .ok(200, "application/json", object(&["depth"], json!({"depth": {"type": "array", "items": object(
                    &["kind", "queued", "running", "dead"],
                    json!({"kind": string(), "queued": {"type": "integer"}, "running": {"type": "integer"}, "dead": {"type": "integer"}})
                )}}))),
        ),
        (
            "/tokens",
            "get",
            Op::new("The agency's tokens, newest first, never their secrets", "admin")
                .params(vec![
                    query("role", string(), "only tokens of this role"),
                    query("revoked", json!({"type": "boolean"}), "revoked tokens too"),
                ])
                .ok(200, "application/json", object(&["tokens"], json!({"tokens": {"type": "array", "items": schema("Token")}})))
                .errors(&[422]),
        ),
        (
            "/tokens",
            "post",
            Op::new("Create a token of the agency; its secret is in this answer only (audited as token.create)", "admin")
                .body(json_body(json!({
                    "type": "object", "required": ["role"], "additionalProperties": false,
                    "properties": {
                        "role": {"type": "string", "enum": ["admin", "scanner", "signer", "consumer", "auditor", "worker"]},
                        "label": {"type": "string", "maxLength": 100},
                        "read_agencies": {"type": "array", "items": string()},
                        "doc_types": {"type": "array", "items": string()}
                    }
                })))
                .ok(201, "application/json", object(&["token", "secret"], json!({"token": schema("Token"), "secret": string()})))
                .errors(&[413, 422]),
        ),
        (
            "/tokens/{id}/revoke",
            "post",
            Op::new("Revoke a token of the agency: refused from then on (audited as token.revoke)", "admin")
                .params(vec![path("id", json!({"type": "integer", "format": "int64"}), "token id")])
                .ok(200, "application/json", object(&["token"], json!({"token": schema("Token")})))
                .errors(&[404, 409]),
        ),
        (
            "/workers",
            "get",
            Op::new("Worker tokens in force and when each last claimed a job or renewed a lease", "admin (its agency's), operator (every agency's)")
                .ok(200, "application/json", object(&["workers"], json!({"workers": {"type": "array", "items": object(
                    &["id", "label", "agency", "every_agency", "created_at_ms", "last_seen_at_ms"],
                    json!({"id": {"type": "integer"}, "label": string(), "agency": string(), "every_agency": {"type": "boolean"},
                        "created_at_ms": {"type": "integer"}, "last_seen_at_ms": {"type": ["integer", "null"]}})
                )}}))),
        ),
    ];
    let mut paths = Map::new();
    for (route, method, op) in ops {
        let entry = paths.entry(route.to_owned()).or_insert_with(|| json!({}));
        entry[method] = op.build();
    }
    Value::Object(paths)
}

fn schemas() -> Value {
    let nullable = |t: &str| json!({"type": [t, "null"]});
    json!({
        "Problem": object(&["type", "title", "status", "code", "detail"], json!({
            "type": string(), "title": string(), "status": {"type": "integer"}, "code": string(), "detail": string()
        })),
        "ImportBatch": {
            "type": "object",
            "required": ["id", "state", "agency", "by", "split_at_blank", "dry_run", "no_ocr", "files", "sheet", "created_at", "updated_at", "error"],
            "properties": {
                "id": string(),
                "state": {"enum": ["running", "done", "failed"]},
                "agency": string(),
                "by": string(),
                "split_at_blank": {"type": "boolean"},
                "dry_run": {"type": "boolean"},
                "no_ocr": {"type": "boolean"},
                "files": {"type": "array", "items": object(&["name", "size", "digest"], json!({
                    "name": string(), "size": {"type": "integer"}, "digest": digest()
                }))},
                "sheet": {"oneOf": [digest(), {"type": "null"}]},
                "created_at": string(),
                "updated_at": string(),
                "error": nullable("string"),
                "restarted": {"type": "boolean"},
                "counts": object(&["imported", "duplicates", "flagged", "failed"], json!({
                    "imported": {"type": "integer"}, "duplicates": {"type": "integer"},
                    "flagged": {"type": "integer"}, "failed": {"type": "integer"}
                })),
                "report": {"type": ["object", "null"], "description": "the end report, as sohoa import --report writes it in JSON"}
            }
        },
        "NewDossier": {
            "type": "object", "required": ["procedure", "applicant"], "additionalProperties": false,
            "properties": {
                "procedure": string(),
                "applicant": {
                    "type": "object", "required": ["kind", "id", "name"], "additionalProperties": false,
                    "properties": {"kind": {"enum": ["citizen", "enterprise"]}, "id": string(), "name": string()}
                }
            }
        },
        "Dossier": object(&["code", "agency", "procedure", "applicant", "status", "received_at", "due_at", "checklist", "scans"], json!({
            "code": string(), "agency": string(), "procedure": string(), "procedure_name": nullable("string"),
            "applicant": {"type": "object"}, "status": string(), "received_at": string(), "due_at": string(),
            "checklist": {"type": "array", "items": object(&["component", "required", "status", "flags", "reuse_candidates"], json!({
                "component": string(), "required": {"type": "boolean"}, "status": string(),
                "flags": {"type": "array", "items": string()}, "record": nullable("string"),
                "reused": {"type": "boolean"}, "reuse_candidates": {"type": "array"}
            }))},
            "scans": {"type": "array"}
        })),
        "Scan": object(&["id", "dossier", "component", "digest", "media_type", "size", "status"], json!({
            "id": {"type": "integer"}, "dossier": string(), "component": string(), "digest": string(),
            "media_type": string(), "size": {"type": "integer"}, "pages": {"type": "integer"}, "status": string(),
            "quality": {"oneOf": [{"type": "null"}, schema("ScanQuality")]}
        })),
        "ScanQuality": {
            "type": "object", "required": ["rescan_advised", "findings", "pages"],
            "description": "What the scan quality gate measured at upload (null for scans uploaded before it); limits in policies/scan-quality.toml",
            "properties": {
                "rescan_advised": {"type": "boolean", "description": "true when any finding advises scanning again"},
                "findings": {"type": "array", "items": object(&["page", "code", "reason", "value", "limit"], json!({
                    "page": {"type": "integer", "minimum": 1},
                    "code": {"enum": ["low_dpi", "blurred", "skewed", "blank", "text_cut", "too_dark", "too_light"]},
                    "reason": {"type": "string", "description": "what to tell the scanner, in Vietnamese"},
                    "value": {"type": "number"}, "limit": {"type": "number"}
                }))},
                "pages": {"type": "array", "items": object(&["page", "dpi", "marks", "paper", "contrast", "cut_marks"], json!({
                    "page": {"type": "integer"}, "dpi": {"type": "number"}, "blur_mm": nullable("number"),
                    "skew": nullable("number"), "marks": {"type": "number"}, "paper": {"type": "number"},
                    "contrast": {"type": "number"},
                    "cut_marks": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4}
                }))},
                "unmeasured": {"type": "string", "description": "present when pages were left unmeasured"}
            }
        },
        "Job": object(&["id", "kind", "agency", "payload", "state", "attempts", "max_attempts"], json!({
            "id": {"type": "integer"}, "kind": {"enum": ["ocr", "seal"]}, "agency": string(),
            "payload": {
                "type": "object",
                "description": "an ocr job's input: the stored digest and media type, and whose it is: a desk scan (`scan`, sealed by the service next) or a document of a back-file import (`import`: batch and line, read by its importer; claimed after every ready desk scan); `register`: the pages are civil-status register pages, whose entries the worker reports too (`Recognition.register`)",
                "properties": {
                    "digest": string(), "media_type": string(), "scan": {"type": "integer"},
                    "import": object(&["batch", "line"], json!({"batch": string(), "line": {"type": "integer", "minimum": 1}})),
                    "register": {"type": "boolean", "default": false}
                }
            },
            "state": {"enum": ["queued", "running", "done", "failed", "dead"]},
            "attempts": {"type": "integer", "minimum": 0, "description": "attempts so far, a claim counting one"},
            "max_attempts": {"type": "integer", "minimum": 1}, "lease": string(), "lease_until_ms": {"type": "integer"},
            "last_error": string()
        })),
        "Claimed": {
            "description": "The job a claim hands out: the whole job, its lease and when the lease runs out unless a heartbeat extends it",
            "allOf": [schema("Job"), {"required": ["lease", "lease_until_ms"]}]
        },
        "LeaseExtended": object(&["lease_until_ms"], json!({"lease_until_ms": {"type": "integer"}})),
        "Recognition": {
            "type": "object", "required": ["input", "engine", "pages"], "additionalProperties": false,
            "description": "An ocr job's output: the scan read (its digest), the engine and every page's words and boxes; for register pages, the entries of their ruled rows",
            "properties": {
                "input": digest(),
                "engine": object(&["name", "version", "language", "model"], json!({
                    "name": string(), "version": string(), "language": string(), "model": string()
                })),
                "pages": {"type": "array", "items": {"type": "object"}},
                "register": {
                    "type": "array",
                    "description": "one per entry, in reading order: its page, its row's region in the upright page's pixels, its fields (value and confidence each) and the row's text",
                    "items": object(&["page", "region", "fields", "text"], json!({
                        "page": {"type": "integer", "minimum": 1},
                        "region": object(&["x", "y", "w", "h"], json!({
                            "x": {"type": "integer"}, "y": {"type": "integer"}, "w": {"type": "integer"}, "h": {"type": "integer"}
                        })),
                        "fields": {"type": "object", "additionalProperties": object(&["value", "confidence"], json!({
                            "value": string(), "confidence": {"type": "number"}
                        }))},
                        "text": string()
                    }))
                }
            }
        },
        "StoredOutput": object(&["digest", "size"], json!({"digest": digest(), "size": {"type": "integer", "minimum": 0}})),
        "Completion": {
            "type": "object", "required": ["input", "recognition"], "additionalProperties": false,
            "description": "An ocr job's result: the scan read and the stored recognition, by digest",
            "properties": {"input": digest(), "recognition": digest()}
        },
        "Reported": object(&["job", "state"], json!({
            "job": {"type": "integer"},
            "state": {"enum": ["done", "queued", "dead"], "description": "queued: failed and retried after a backoff; dead: failed for good"}
        })),
        "Record": object(&["id", "kind", "agency", "doc_type", "digest", "size", "manifest_digest", "status", "created_at"], json!({
            "id": string(), "kind": {"enum": ["digitized_copy", "result", "backfile"]}, "agency": string(),
            "dossier": nullable("string"), "component": nullable("string"), "owner_id": nullable("string"),
            "doc_type": string(), "number": nullable("string"), "issue_date": nullable("string"),
            "valid_from": nullable("string"), "valid_until": nullable("string"),
            "digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}, "size": {"type": "integer"},
            "manifest_digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
            "signatures": {}, "classification": {}, "fields": {}, "flags": {}, "digitized": {}, "log_index": nullable("integer"),
            "status": {"enum": ["active", "revoked", "superseded", "disposed"]},
            "status_reason": nullable("string"), "superseded_by": nullable("string"), "created_at": string()
        })),
        "Result": object(&["id", "agency", "dossier", "doc_type", "digest", "size", "signatures", "status", "versions"], json!({
            "id": string(), "agency": string(), "dossier": string(), "doc_type": string(), "number": nullable("string"),
            "digest": string(), "size": {"type": "integer"}, "signatures": {"type": "integer"},
            "signers": {"type": "array", "items": string()}, "next_signer": nullable("string"),
            "status": {"enum": ["draft", "issued"]}, "record": nullable("string"), "created_at": string(),
            "versions": {"type": "array", "items": object(&["seq", "digest", "event"], json!({
                "seq": {"type": "integer"}, "digest": string(), "size": {"type": "integer"}, "event": string(),
                "actor": string(), "signer": nullable("string"), "at": string()
            }))}
        })),
        "Placement": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "page": {"type": "integer", "minimum": 0, "maximum": 4294967295u32},
                "rect": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                "reason": string(), "location": string()
            }
        },
        "PublicRecord": object(&["kind", "agency", "doc_type", "status", "in_log"], json!({
            "kind": string(), "agency": string(), "agency_name": nullable("string"), "doc_type": string(),
            "doc_type_title": nullable("string"), "issue_date": nullable("string"), "status": string(), "in_log": {"type": "boolean"},
            "log_index": nullable("integer"), "archived_at": string()
        })),
        "Token": object(&["id", "role", "agency", "label", "scope", "created_at_ms", "revoked_at_ms", "last_seen_at_ms"], json!({
            "id": {"type": "integer"}, "role": string(), "agency": string(), "label": string(), "scope": {"type": "object"},
            "created_at_ms": {"type": "integer"}, "revoked_at_ms": nullable("integer"), "last_seen_at_ms": nullable("integer")
        })),
        "Hold": object(&["id", "target", "reason", "placed_by", "placed_at", "in_force"], json!({
            "id": {"type": "integer"}, "target": string(), "reason": string(), "placed_by": string(), "placed_at": string(),
            "released_by": nullable("string"), "released_at": nullable("string"), "in_force": {"type": "boolean"}
        })),
    })
}

/// The whole document.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "sohoa",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Dossier intake, OCR, sealing and signing, write-once archive and record retrieval for one-stop desks. \
                            Every route needs a bearer token of one role and one agency; errors are application/problem+json with a stable code."
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Problem": {"description": "an error with a stable code", "content": {"application/problem+json": {"schema": schema("Problem")}}}
            },
            "schemas": schemas(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sohoa_protocol::job::{Completion, LeaseExtended, Reported, Settled, StoredOutput};

    /// Every field `value` has is one `name` describes, every field it requires is there,
    /// and each enumerated field holds one of its values.
    fn described(doc: &Value, name: &str, value: &Value) {
        let mut kind = &doc["components"]["schemas"][name];
        let mut required: Vec<&Value> = kind["required"].as_array().map(|r| r.iter().collect()).unwrap_or_default();
        if let Some(parts) = kind["allOf"].as_array() {
            required.extend(parts.iter().filter_map(|p| p["required"].as_array()).flatten());
            kind = doc.pointer(parts[0]["$ref"].as_str().unwrap().trim_start_matches('#')).unwrap();
            required.extend(kind["required"].as_array().unwrap());
        }
        let fields = value.as_object().unwrap();
        for field in required {
            assert!(fields.contains_key(field.as_str().unwrap()), "{name} requires {field}: {value}");
        }
        for (field, v) in fields {
            let about = &kind["properties"][field];
            assert!(about.is_object(), "{name} does not describe {field}");
            if let Some(values) = about["enum"].as_array() {
                assert!(values.contains(v), "{name}.{field} = {v} is not one of {values:?}");
            }
        }
    }

    #[test]
    fn the_job_protocols_answers_are_the_ones_described() {
        let doc = document();
        let digest = format!("sha256:{}", "ab".repeat(32));
        let job = crate::queue::Job {
            id: 7,
            kind: crate::queue::JobKind::Ocr,
            agency: crate::domain::AgencyCode::parse("000.00.31.H29").unwrap(),
            payload: json!({"scan": 3, "digest": digest, "media_type": "image/png"}),
            state: crate::queue::JobState::Running,
            attempts: 1,
            max_attempts: 5,
            lease: Some("ab12".into()),
            lease_until_ms: Some(1_700_000_060_000),
            last_error: None,
            queued_at_ms: 1_700_000_000_000,
        };
        described(&doc, "Claimed", &serde_json::to_value(&job).unwrap());
        let listed = crate::queue::Job { lease: None, lease_until_ms: None, state: crate::queue::JobState::Dead, ..job };
        described(&doc, "Job", &serde_json::to_value(&listed).unwrap());
        described(&doc, "LeaseExtended", &serde_json::to_value(LeaseExtended { lease_until_ms: 1 }).unwrap());
        described(&doc, "StoredOutput", &serde_json::to_value(StoredOutput { digest: digest.clone(), size: 120 }).unwrap());
        let completion = Completion { input: digest.clone(), recognition: digest };
        described(&doc, "Completion", &serde_json::to_value(completion).unwrap());
        for state in [Settled::Done, Settled::Queued, Settled::Dead] {
            described(&doc, "Reported", &serde_json::to_value(Reported { job: 7, state }).unwrap());
        }
        let output = &doc["paths"]["/jobs/{id}/output"]["post"];
        assert_eq!(output["requestBody"]["content"]["application/json"]["schema"], schema("Recognition"), "the output is the recognition");
        let input = doc["paths"]["/jobs/{id}/input"]["get"]["responses"]["200"]["content"].as_object().unwrap();
        assert!(input.contains_key("image/png") && input.contains_key("application/pdf"), "the input is the scan as stored");
    }

    #[test]
    fn every_reference_resolves_and_every_operation_answers_errors_as_problems() {
        let doc = document();
        let text = doc.to_string();
        for name in [
            "Problem",
            "NewDossier",
            "Dossier",
            "Scan",
            "ScanQuality",
            "Job",
            "Claimed",
            "Reported",
            "Record",
            "Hold",
            "Result",
            "Placement",
            "ImportBatch",
        ] {
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
        let refs: Vec<&str> = text.split("\"$ref\":\"").skip(1).filter_map(|s| s.split('"').next()).collect();
        assert!(!refs.is_empty());
        for r in refs {
            let pointer = r.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "dangling {r}");
        }
        for (route, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                // an operation open to anyone says so and is never refused for want of a token
                let public = op["security"] == json!([]);
                assert_eq!(op["responses"]["401"].is_object(), !public, "{method} {route}");
                let ok = op["responses"].as_object().unwrap().keys().any(|k| k.starts_with('2'));
                assert!(ok, "{method} {route} has no success answer");
            }
        }
    }
}
