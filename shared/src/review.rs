//! The Kubernetes self reviews kubectl sends: `SelfSubjectAccessReview`
//! (authorization.k8s.io/v1, `kubectl auth can-i`) and `SelfSubjectReview`
//! (authentication.k8s.io/v1 and v1beta1, `kubectl auth whoami`). Only the fields tagstream
//! answers are modelled; the server decides with the same rules as every route.

use crate::protobuf::field;

crate::meta::wire_object! {
    /// `kubectl auth can-i VERB RESOURCE [NAME] -n NS`: asked with `spec.resourceAttributes`,
    /// answered in `status`.
    pub struct SelfSubjectAccessReview {
        /// What the caller asks whether they may do.
        pub spec: SelfSubjectAccessReviewSpec = default,
        /// The answer.
        pub status?: Option<SubjectAccessReviewStatus>,
    }
}

crate::meta::wire_struct! {
    /// What a self access review asks about.
    #[derive(Default, Eq)]
    pub struct SelfSubjectAccessReviewSpec {
        /// The action on a resource asked about.
        pub resource_attributes?: Option<ResourceAttributes>,
        /// A non-resource URL (`/healthz`): tagstream answers only about resources.
        pub non_resource_attributes?: Option<serde_json::Value>,
    }

    /// What is asked about: `verb` on `group`'s `resource` (`subresource`) named `name` in
    /// `namespace`; empty strings are "any" / "none" as in Kubernetes.
    #[derive(Default, Eq)]
    pub struct ResourceAttributes {
        /// The project; empty: every project.
        pub namespace: String = default,
        /// The action: `get`, `list`, `create`, `update`, `patch`, `delete`, `watch`...
        pub verb: String = default,
        /// The resource's API group (`image.openshift.io`).
        pub group: String = default,
        /// The resource's API version; empty: any.
        pub version: String = default,
        /// The resource (`imagestreams`).
        pub resource: String = default,
        /// The subresource, if any.
        pub subresource: String = default,
        /// The object's name; empty: any.
        pub name: String = default,
    }

    /// The answer to an access review.
    #[derive(Default, Eq)]
    pub struct SubjectAccessReviewStatus {
        /// Whether the caller may do it.
        pub allowed: bool,
        /// Whether the caller is explicitly refused it.
        pub denied?: bool,
        /// Why, when the server says.
        pub reason?: String,
    }
}

crate::meta::wire_object! {
    /// `kubectl auth whoami`: the answer carries who the server takes the caller for.
    pub struct SelfSubjectReview {
        /// Who the server takes the caller for.
        pub status: SelfSubjectReviewStatus = default,
    }
}

crate::meta::wire_struct! {
    /// The answer to a self subject review.
    #[derive(Default, Eq)]
    pub struct SelfSubjectReviewStatus {
        /// The caller as the server authenticated them.
        pub user_info: UserInfo,
    }

    /// A user as authentication found them: name and groups (a project-scoped token says its
    /// scope in `extra`).
    #[derive(Default, Eq)]
    pub struct UserInfo {
        /// The user's name.
        pub username: String,
        /// The teams the user is in.
        pub groups?: Vec<String>,
        /// More about the authentication; a project-scoped token names its project here.
        pub extra?: std::collections::BTreeMap<String, Vec<String>>,
    }
}

/// A `SelfSubjectAccessReview` in protobuf (kubectl 1.33 sends it so; `crate::protobuf`). Only `spec.resourceAttributes`
/// (field 2, then 1) is read; every length is checked against what is left.
pub fn access_review_from_protobuf(bytes: &[u8]) -> Result<ResourceAttributes, String> {
    let raw = crate::protobuf::unwrap_envelope(bytes)?;
    let spec = field(raw, 2)?.ok_or("the review has no spec")?;
    let attrs = field(spec, 1)?
        .ok_or("the review has no spec.resourceAttributes (non-resource URLs are not answered)")?;
    let text = |n| -> Result<String, String> {
        match field(attrs, n)? {
            Some(b) => String::from_utf8(b.to_vec()).map_err(|_| "a field is not UTF-8".into()),
            None => Ok(String::new()),
        }
    };
    Ok(ResourceAttributes {
        namespace: text(1)?,
        verb: text(2)?,
        group: text(3)?,
        version: text(4)?,
        resource: text(5)?,
        subresource: text(6)?,
        name: text(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protobuf::tests::ld;

    #[test]
    fn a_protobuf_access_review_is_read() {
        let attrs = [
            ld(1, b"demo"),
            ld(2, b"get"),
            ld(3, b"image.openshift.io"),
            ld(5, b"imagestreams"),
        ]
        .concat();
        let review = [ld(1, b""), ld(2, &ld(1, &attrs))].concat();
        let envelope = [
            b"k8s\0".to_vec(),
            ld(1, &ld(2, b"SelfSubjectAccessReview")),
            ld(2, &review),
        ]
        .concat();
        let a = access_review_from_protobuf(&envelope).expect("decodes");
        assert_eq!((a.namespace.as_str(), a.verb.as_str()), ("demo", "get"));
        assert_eq!(a.resource, "imagestreams");
        assert!(access_review_from_protobuf(&envelope[..envelope.len() - 3]).is_err());
        assert!(access_review_from_protobuf(b"k8s\0\x12\xff\xff\xff\xff\x0f").is_err());
    }
}
