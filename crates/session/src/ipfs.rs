//! The IPFS id (CIDv0, `Qm…`) of a Lit Action's code: what a node computes from the `code` it
//! is sent (lit-peer `web_client.rs`: `IpfsHasher::default().compute(code)`, the `ipfs-hasher`
//! crate) and what the SDK computes with `ipfs-only-hash` (naga `lit-client/src/ipfs/getIpfsId.ts`).
//! A PKP permits an action by this id (auth method type 2, id = the CID's bytes), and a session
//! names the action it may run as `lit-litaction://<cid>`.
//!
//! The id is `ipfs add` with its defaults: the bytes cut into 262,144-byte chunks, each chunk a
//! dag-pb node holding a UnixFS `File` with the chunk; more than one chunk are linked by parents
//! of at most 174 links each, level by level (the balanced layout), each parent a UnixFS `File`
//! with the total size and its children's sizes. The root's sha2-256 multihash, in base58btc,
//! is the CIDv0.

use sha2::{Digest, Sha256};

/// The default chunk size of `ipfs add`.
pub const CHUNK_SIZE: usize = 262_144;
/// The default number of links of a parent in the balanced layout.
pub const MAX_LINKS: usize = 174;

/// The multihash prefix of sha2-256 with a 32-byte digest.
const SHA2_256_MULTIHASH: [u8; 2] = [0x12, 0x20];
/// UnixFS `DataType.File`.
const UNIXFS_FILE: u64 = 2;

/// The CIDv0 of `content`, as `ipfs add` (and so a Lit node) computes it.
pub fn cid_v0(content: &[u8]) -> String {
    let mut level: Vec<Node> = if content.is_empty() {
        vec![Node::leaf(&[])]
    } else {
        content.chunks(CHUNK_SIZE).map(Node::leaf).collect()
    };
    while level.len() > 1 {
        level = level.chunks(MAX_LINKS).map(Node::parent).collect();
    }
    let root = level.pop().map_or_else(|| Node::leaf(&[]).hash, |n| n.hash);
    base58_encode(&root)
}

/// The bytes of a base58btc CIDv0 (`Qm…`, 34 bytes: the sha2-256 multihash): the id a PKP's
/// permitted Lit Action has on the chain (lit-core `ipfs_cid_to_bytes`). `None` unless the text
/// is a CIDv0.
pub fn cid_v0_bytes(cid: &str) -> Option<[u8; 34]> {
    let bytes = base58_decode(cid)?;
    let bytes: [u8; 34] = bytes.try_into().ok()?;
    (bytes[..2] == SHA2_256_MULTIHASH).then_some(bytes)
}

/// A dag-pb node as its parent needs it: its multihash, its UnixFS file size, and its
/// cumulative size (its block plus everything below it: a link's `Tsize`).
struct Node {
    hash: [u8; 34],
    file_size: u64,
    cumulative: u64,
}

impl Node {
    fn from_block(block: &[u8], file_size: u64, below: u64) -> Self {
        let mut hash = [0u8; 34];
        hash[..2].copy_from_slice(&SHA2_256_MULTIHASH);
        hash[2..].copy_from_slice(&Sha256::digest(block));
        Self {
            hash,
            file_size,
            cumulative: block.len() as u64 + below,
        }
    }

    /// `PBNode { Data: UnixFS { Type: File, Data: chunk, filesize } }`; an empty chunk has no
    /// `Data` inside the UnixFS message.
    fn leaf(chunk: &[u8]) -> Self {
        let mut unixfs = Vec::with_capacity(chunk.len() + 16);
        put_varint_field(&mut unixfs, 1, UNIXFS_FILE);
        if !chunk.is_empty() {
            put_bytes_field(&mut unixfs, 2, chunk);
        }
        put_varint_field(&mut unixfs, 3, chunk.len() as u64);
        let mut block = Vec::with_capacity(unixfs.len() + 8);
        put_bytes_field(&mut block, 1, &unixfs);
        Self::from_block(&block, chunk.len() as u64, 0)
    }

    /// `PBNode { Links: [{Hash, Name: "", Tsize}…], Data: UnixFS { Type: File, filesize,
    /// blocksizes… } }`, links first as dag-pb writes them.
    fn parent(children: &[Node]) -> Self {
        let file_size: u64 = children.iter().map(|c| c.file_size).sum();
        let mut unixfs = Vec::new();
        put_varint_field(&mut unixfs, 1, UNIXFS_FILE);
        put_varint_field(&mut unixfs, 3, file_size);
        for c in children {
            put_varint_field(&mut unixfs, 4, c.file_size);
        }
        let mut block = Vec::new();
        for c in children {
            let mut link = Vec::with_capacity(48);
            put_bytes_field(&mut link, 1, &c.hash);
            put_bytes_field(&mut link, 2, b"");
            put_varint_field(&mut link, 3, c.cumulative);
            put_bytes_field(&mut block, 2, &link);
        }
        put_bytes_field(&mut block, 1, &unixfs);
        let below = children.iter().map(|c| c.cumulative).sum();
        Self::from_block(&block, file_size, below)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Protobuf wire type 0 (varint).
fn put_varint_field(out: &mut Vec<u8>, field: u64, v: u64) {
    put_varint(out, field << 3);
    put_varint(out, v);
}

/// Protobuf wire type 2 (length-delimited).
fn put_bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

const BASE58_ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58_encode(bytes: &[u8]) -> String {
    // Base-58 digits, least significant first.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(
        digits
            .iter()
            .rev()
            .map(|d| char::from(BASE58_ALPHABET[usize::from(*d)])),
    );
    out
}

fn base58_decode(text: &str) -> Option<Vec<u8>> {
    // Bytes, least significant first.
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.bytes() {
        let mut carry = BASE58_ALPHABET.iter().position(|a| *a == c)? as u32;
        for b in bytes.iter_mut() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = text.bytes().take_while(|c| *c == b'1').count();
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    /// Computed with `ipfs-only-hash` 4.0.0, the package the SDK's `getIpfsId` wraps; "hello"
    /// is also naga `lit-client/src/ipfs/getIpfsId.spec.ts`'s vector.
    #[test]
    fn agrees_with_ipfs_only_hash() {
        let mut big = vec![0u8; CHUNK_SIZE * 2 + 1000];
        for (i, b) in big.iter_mut().enumerate() {
            *b = ((i * 7 + 3) & 0xff) as u8;
        }
        let cases: [(&[u8], &str); 5] = [
            (b"", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"),
            (b"hello", "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"),
            (
                b"hello world\n",
                "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",
            ),
            (
                &[0x61; CHUNK_SIZE],
                "Qma81h2ZqbvJW2EQkiVUZ17aSvNWqAtvUPhh8mQBPU8W7c",
            ),
            (&big, "QmUzQnu2SpaRuM2rw2TxboHGu5Nch6DkYtYzfNJgRKV42R"),
        ];
        for (content, cid) in cases {
            assert_eq!(cid_v0(content), cid, "{} bytes", content.len());
        }
    }

    #[test]
    fn cid_bytes_round_trip_and_refuse_other_text() {
        let cid = cid_v0(b"hello");
        let bytes = cid_v0_bytes(&cid).unwrap();
        assert_eq!(&bytes[..2], &[0x12, 0x20]);
        assert_eq!(base58_encode(&bytes), cid);
        // lit-core's own test: a CIDv0 is 34 bytes.
        assert!(cid_v0_bytes("QmVhvbXG4u69s3UUAmNL8RnjndBYcxGPQmHh8aP5uwr5Wz").is_some());
        for bad in ["", "Qm0", "not a cid", "1111"] {
            assert_eq!(cid_v0_bytes(bad), None, "{bad}");
        }
        assert_eq!(base58_decode("11").unwrap(), vec![0, 0]);
    }
}
