//! The template's routes: matching a path to the most specific route,
//! with its path parameters.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::AuthorizerSpec;
use crate::runtime::FunctionPool;

#[derive(Clone)]
pub struct Route {
    pub method: String,
    pub path: String,
    segments: Vec<Segment>,
    pub function: Arc<FunctionPool>,
    pub authorizer: Option<(AuthorizerSpec, Arc<FunctionPool>)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Route {
    pub fn new(
        method: &str,
        path: &str,
        function: Arc<FunctionPool>,
        authorizer: Option<(AuthorizerSpec, Arc<FunctionPool>)>,
    ) -> Self {
        let segments = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(p) if p.ends_with('+') => {
                        Segment::Greedy(p.trim_end_matches('+').to_owned())
                    }
                    Some(p) => Segment::Param(p.to_owned()),
                    None => Segment::Literal(s.to_owned()),
                },
            )
            .collect();
        Self {
            // The default route catches every method.
            method: if path == "$default" {
                "ANY".to_owned()
            } else {
                method.to_ascii_uppercase()
            },
            path: path.to_owned(),
            segments,
            function,
            authorizer,
        }
    }

    pub(super) fn route_key(&self) -> String {
        if self.path == "$default" {
            "$default".to_owned()
        } else {
            format!("{} {}", self.method, self.path)
        }
    }

    /// Path parameters if `path` matches this route.
    pub(super) fn matches(&self, path: &str) -> Option<HashMap<String, String>> {
        if self.path == "$default" {
            return Some(HashMap::new());
        }
        let parts: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let mut params = HashMap::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(lit) => {
                    if parts.get(i) != Some(&lit.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = parts.get(i)?;
                    params.insert(name.clone(), percent_decode(value));
                }
                Segment::Greedy(name) => {
                    if i >= parts.len() {
                        return None;
                    }
                    params.insert(name.clone(), parts[i..].join("/"));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// Higher is more specific: literal segments, then parameters, then a
    /// specific method over ANY; `$default` last.
    pub(super) fn specificity(&self) -> (u8, usize, usize, u8) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let greedy = self
            .segments
            .iter()
            .any(|s| matches!(s, Segment::Greedy(_)));
        (
            u8::from(self.path != "$default"),
            literals,
            usize::from(!greedy),
            u8::from(self.method != "ANY"),
        )
    }
}

pub(super) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_api::HttpApi;
    use axum::http::Method;

    fn route(path: &str) -> Route {
        let spec = crate::model::FunctionSpec::bare("f", 1);
        let launch = crate::runtime::LaunchConfig {
            bin_dir: ".".into(),
            base_env: Default::default(),
            log_format: None,
            segments: Default::default(),
        };
        Route::new("GET", path, FunctionPool::new(spec, launch), None)
    }

    #[test]
    fn path_parameters_are_extracted_and_decoded() {
        let params = route("/bookings/{id}/history")
            .matches("/bookings/b%2D1/history")
            .unwrap();
        assert_eq!(params["id"], "b-1");
        assert!(route("/bookings/{id}").matches("/bookings").is_none());
        assert!(route("/bookings/{id}").matches("/bookings/1/x").is_none());
    }

    #[test]
    fn a_greedy_parameter_takes_the_rest_of_the_path() {
        let params = route("/files/{proxy+}").matches("/files/a/b/c").unwrap();
        assert_eq!(params["proxy"], "a/b/c");
    }

    #[test]
    fn the_most_specific_route_wins() {
        let api = HttpApi::new(vec![
            route("/bookings/{id}"),
            route("/bookings/mine"),
            route("$default"),
        ]);
        let (r, _) = api.find(&Method::GET, "/bookings/mine").unwrap();
        assert_eq!(r.path, "/bookings/mine");
        let (r, _) = api.find(&Method::GET, "/bookings/42").unwrap();
        assert_eq!(r.path, "/bookings/{id}");
        let (r, _) = api.find(&Method::GET, "/nothing").unwrap();
        assert_eq!(r.path, "$default");
        assert!(
            api.find(&Method::POST, "/bookings/42")
                .is_some_and(|(r, _)| r.path == "$default")
        );
    }
}
