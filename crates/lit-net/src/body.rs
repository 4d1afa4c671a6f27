//! Reading an answer's body with a ceiling: the network decides what it sends, we decide how
//! much of it we hold. Each endpoint has its own cap, sized from what a real answer needs
//! ([`crate::client::HANDSHAKE_BODY_CAP`], [`crate::staking::ETH_CALL_BODY_CAP`],
//! [`crate::staking::RPC_BODY_CAP`]); a body that declares or streams more is refused as soon
//! as it passes the cap, never buffered whole.

/// Why a body was not read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// More than the cap was declared (`Content-Length`) or received.
    TooLarge,
    /// The transport failed or timed out while reading.
    Transport(reqwest::Error),
}

/// The body of `resp`, at most `cap` bytes. A `Content-Length` above the cap is refused before
/// a byte is read; a chunked or lying body is cut off at the first chunk past the cap (chunks
/// are bounded by hyper's read buffer, so we never hold much more than `cap`).
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    let start = declared.map_or(0, |n| n as usize);
    let mut body = Vec::with_capacity(start.min(cap));
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if chunk.len() > cap - body.len() {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
