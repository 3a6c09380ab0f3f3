//! JSON request bodies whose errors are problem+json like every other error.

use super::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// Largest JSON body accepted; uploads have their own limit.
const MAX_JSON_BYTES: usize = 256 * 1024;

pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), MAX_JSON_BYTES)
            .await
            .map_err(|_| ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the JSON body is too large"))?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = T::deserialize(&mut de).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
            } else {
                ApiError::unprocessable("invalid_request", format!("the body does not fit the schema: {e}"))
            }
        })?;
        de.end().map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))?;
        Ok(JsonBody(value))
    }
}
