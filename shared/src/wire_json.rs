//! The wire format of every wire type, pinned: a document with every field set goes through the
//! type and comes out byte for byte as `wire_json.golden` recorded it. Doc comments (the OpenAPI
//! descriptions) and refactors of the declarations must leave this unchanged.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::image::{Image, ImageStreamImage};
use crate::imagestream::{ImageStream, ImageStreamTag};
use crate::import::ImageStreamImport;
use crate::meta::ListMeta;
use crate::project::Project;
use crate::review::{SelfSubjectAccessReview, SelfSubjectReview};
use crate::samples::SamplesConfig;
use crate::status::Status;
use crate::template::{Template, TemplateInstance};
use crate::trigger::{Delivery, Trigger};
use crate::user::{
    AcceptInvitation, AccessReview, AccessReviewQuery, AuditEvent, AuditQuery, Group, Identity,
    Login, PasswordChange, RoleBinding, Token, User, UserCreate, UserCreated,
};
use crate::workload::ImageTrigger;

/// One line a type: its name, a tab, and its JSON as the type writes it.
const GOLDEN: &str = include_str!("wire_json.golden");

/// The document read back through `T` and written again, compactly.
fn through<T: Serialize + DeserializeOwned>(json: &str) -> Result<String, serde_json::Error> {
    serde_json::to_string(&serde_json::from_str::<T>(json)?)
}

/// What a type writes for a document.
type Writer = fn(&str) -> Result<String, serde_json::Error>;

/// Each type name with its writer.
fn writer(name: &str) -> Option<Writer> {
    Some(match name {
        "ImageStream" => through::<ImageStream>,
        "ImageStreamTag" => through::<ImageStreamTag>,
        "ImageStreamImage" => through::<ImageStreamImage>,
        "Image" => through::<Image>,
        "ImageStreamImport" => through::<ImageStreamImport>,
        "Template" => through::<Template>,
        "TemplateInstance" => through::<TemplateInstance>,
        "SamplesConfig" => through::<SamplesConfig>,
        "Project" => through::<Project>,
        "User" => through::<User>,
        "UserCreate" => through::<UserCreate>,
        "UserCreated" => through::<UserCreated>,
        "Group" => through::<Group>,
        "RoleBinding" => through::<RoleBinding>,
        "Token" => through::<Token>,
        "Login" => through::<Login>,
        "PasswordChange" => through::<PasswordChange>,
        "AcceptInvitation" => through::<AcceptInvitation>,
        "Identity" => through::<Identity>,
        "AuditEvent" => through::<AuditEvent>,
        "AccessReview" => through::<AccessReview>,
        "AccessReviewQuery" => through::<AccessReviewQuery>,
        "AuditQuery" => through::<AuditQuery>,
        "Trigger" => through::<Trigger>,
        "Delivery" => through::<Delivery>,
        "Event" => through::<crate::event::Event>,
        "Status" => through::<Status>,
        "SelfSubjectAccessReview" => through::<SelfSubjectAccessReview>,
        "SelfSubjectReview" => through::<SelfSubjectReview>,
        "ListMeta" => through::<ListMeta>,
        "ImageTrigger" => through::<ImageTrigger>,
        _ => return None,
    })
}

#[test]
fn every_wire_type_writes_what_the_golden_file_recorded() {
    let mut seen = 0;
    for line in GOLDEN.lines().filter(|l| !l.trim().is_empty()) {
        let (name, json) = line.split_once('\t').expect("name<TAB>json");
        let write = writer(name).unwrap_or_else(|| panic!("no type {name}"));
        let written = write(json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(written, json, "{name} is written differently");
        seen += 1;
    }
    assert_eq!(seen, 31, "one golden line a type");
}
