//! Hex helpers shared by key and signature parsing.

use zeroize::Zeroizing;

/// The error when text is not the expected hex.
#[derive(Debug)]
pub(crate) struct BadHex;

/// Strips one optional `0x`/`0X` prefix and surrounding white space.
pub(crate) fn strip_0x(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text)
}

/// Decodes exactly `N` bytes of hex (`0x` optional) into a zeroized buffer.
pub(crate) fn decode_fixed<const N: usize>(text: &str) -> Result<Zeroizing<[u8; N]>, BadHex> {
    let digits = strip_0x(text);
    let mut out = Zeroizing::new([0u8; N]);
    hex::decode_to_slice(digits, out.as_mut_slice()).map_err(|_| BadHex)?;
    Ok(out)
}
