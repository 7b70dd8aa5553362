//! The API's paths, built in one place for the console's client and checked by the server's tests.

pub const PROJECTS: &str = "/apis/project.openshift.io/v1/projects";
pub const IMAGESTREAMS_ALL: &str = "/apis/image.openshift.io/v1/imagestreams";

pub fn project(name: &str) -> String {
    format!("{PROJECTS}/{name}")
}

pub fn imagestreams(ns: &str) -> String {
    format!("/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams")
}

pub fn imagestream(ns: &str, name: &str) -> String {
    format!("{}/{name}", imagestreams(ns))
}

/// The status subresource: the only way a client writes a stream's tag history directly.
pub fn imagestream_status(ns: &str, name: &str) -> String {
    format!("{}/status", imagestream(ns, name))
}

pub fn imagestreamtag(ns: &str, name: &str, tag: &str) -> String {
    format!("/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamtags/{name}:{tag}")
}

pub fn imagestreamimports(ns: &str) -> String {
    format!("/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamimports")
}

pub fn imagestreamimage(ns: &str, name: &str, digest: &str) -> String {
    format!("/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamimages/{name}@{digest}")
}

pub fn templates(ns: &str) -> String {
    format!("/apis/template.openshift.io/v1/namespaces/{ns}/templates")
}

pub fn template(ns: &str, name: &str) -> String {
    format!("{}/{name}", templates(ns))
}

/// `POST` a template here to have it processed (nothing is stored).
pub fn processed_templates(ns: &str) -> String {
    format!("/apis/template.openshift.io/v1/namespaces/{ns}/processedtemplates")
}

pub fn template_instances(ns: &str) -> String {
    format!("/apis/template.openshift.io/v1/namespaces/{ns}/templateinstances")
}

pub fn template_instance(ns: &str, name: &str) -> String {
    format!("{}/{name}", template_instances(ns))
}

/// The one samples config.
pub const SAMPLES_CONFIG: &str = "/apis/samples.operator.openshift.io/v1/configs/cluster";
