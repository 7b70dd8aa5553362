//! The little of Kubernetes' protobuf encoding that clients send tagstream: kubectl 1.33 writes
//! built-in kinds (a Namespace, a SelfSubjectAccessReview) as `k8s\0` followed by
//! `runtime.Unknown { typeMeta = 1; raw = 2; }`, `raw` being the object's message. Only
//! length-delimited fields are read, each length checked against what is left, so a
//! malformed body is an error, never a panic or a large allocation.

use std::collections::BTreeMap;

use crate::meta::ObjectMeta;

/// The object message inside the envelope.
pub fn unwrap_envelope(bytes: &[u8]) -> Result<&[u8], String> {
    let body = bytes
        .strip_prefix(b"k8s\0")
        .ok_or("a protobuf body starts with the k8s magic number")?;
    field(body, 2)?.ok_or_else(|| "the protobuf envelope has no object".into())
}

/// `metadata` (field 1) of an object message: name, generateName, labels and annotations.
pub fn object_meta(object: &[u8]) -> Result<ObjectMeta, String> {
    let Some(meta) = field(object, 1)? else {
        return Ok(ObjectMeta::default());
    };
    let text = |n| -> Result<Option<String>, String> {
        field(meta, n)?
            .map(|b| String::from_utf8(b.to_vec()).map_err(|_| "a field is not UTF-8".into()))
            .transpose()
    };
    let map = |n| -> Result<Option<BTreeMap<String, String>>, String> {
        let mut out = BTreeMap::new();
        for entry in fields(meta, n)? {
            let part = |k| -> Result<String, String> {
                let b = field(entry, k)?.unwrap_or_default();
                String::from_utf8(b.to_vec()).map_err(|_| "a map entry is not UTF-8".into())
            };
            out.insert(part(1)?, part(2)?);
        }
        Ok((!out.is_empty()).then_some(out))
    };
    Ok(ObjectMeta {
        name: text(1)?,
        generate_name: text(2)?.filter(|s| !s.is_empty()),
        labels: map(11)?,
        annotations: map(12)?,
        ..ObjectMeta::default()
    })
}

fn varint(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at).ok_or("a protobuf varint is cut short")?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a protobuf varint is too long".into())
}

/// The last length-delimited field `number` of a message (protobuf: the last one wins).
pub fn field(message: &[u8], number: u64) -> Result<Option<&[u8]>, String> {
    Ok(fields(message, number)?.pop())
}

/// Every length-delimited field `number` of a message, in order (a repeated field, a map).
pub fn fields(message: &[u8], number: u64) -> Result<Vec<&[u8]>, String> {
    let (mut at, mut found) = (0, Vec::new());
    while at < message.len() {
        let key = varint(message, &mut at)?;
        match key & 7 {
            0 => {
                varint(message, &mut at)?;
            }
            1 => at += 8,
            5 => at += 4,
            2 => {
                let len = usize::try_from(varint(message, &mut at)?).map_err(|e| e.to_string())?;
                let end = at
                    .checked_add(len)
                    .filter(|&e| e <= message.len())
                    .ok_or("a protobuf field is longer than its message")?;
                if key >> 3 == number {
                    found.push(&message[at..end]);
                }
                at = end;
            }
            other => return Err(format!("protobuf wire type {other} is not expected here")),
        }
    }
    if at > message.len() {
        return Err("a protobuf field is cut short".into());
    }
    Ok(found)
}

#[cfg(test)]
pub(crate) mod tests {
    /// A length-delimited field, for tests (short contents only).
    pub fn ld(number: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![number << 3 | 2, content.len() as u8];
        out.extend_from_slice(content);
        out
    }

    #[test]
    fn a_namespace_s_metadata_is_read() {
        let label = [ld(1, b"team"), ld(2, b"web")].concat();
        let meta = [ld(1, b"demo"), ld(11, &label)].concat();
        let envelope = [b"k8s\0".to_vec(), ld(2, &ld(1, &meta))].concat();
        let object = super::unwrap_envelope(&envelope).expect("envelope");
        let meta = super::object_meta(object).expect("meta");
        assert_eq!(meta.name.as_deref(), Some("demo"));
        assert_eq!(
            meta.labels
                .unwrap_or_default()
                .get("team")
                .map(String::as_str),
            Some("web")
        );
    }
}
