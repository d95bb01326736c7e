//! CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`,
//! `Fn::If`, ... in short and long form) resolved against a [`Context`], and
//! SAM's `Globals` merged under a function's own properties.

use serde_json::{Map, Value as Json, json};
use serde_norway::Value as Yaml;

use super::{Context, TemplateError, invalid, scalar_string};

/// Resolves every intrinsic in `value` and converts it to JSON.
/// `AWS::NoValue` removes the key it stands for.
pub fn resolve(value: &Yaml, ctx: &Context, resource: &str) -> Result<Json, TemplateError> {
    resolve_opt(value, ctx, resource).map(|v| v.unwrap_or(Json::Null))
}

fn unresolved(resource: &str, what: impl Into<String>) -> TemplateError {
    TemplateError::Unresolved {
        resource: resource.to_owned(),
        what: what.into(),
    }
}

fn resolve_opt(value: &Yaml, ctx: &Context, res: &str) -> Result<Option<Json>, TemplateError> {
    Ok(Some(match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).map_err(|e| invalid(e.to_string()))?,
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(v) = resolve_opt(item, ctx, res)? {
                    out.push(v);
                }
            }
            Json::Array(out)
        }
        Yaml::Mapping(map) => {
            if map.len() == 1 {
                let (k, v) = map.iter().next().expect("one entry");
                if let Some(name) = k.as_str().and_then(|k| intrinsic_name(k)) {
                    return intrinsic(name, v, ctx, res);
                }
            }
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    other => scalar_string(other),
                };
                if let Some(v) = resolve_opt(v, ctx, res)? {
                    out.insert(key, v);
                }
            }
            Json::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            return intrinsic(tag.trim_start_matches('!'), &tagged.value, ctx, res);
        }
    }))
}

fn intrinsic_name(key: &str) -> Option<&str> {
    match key {
        "Ref" => Some("Ref"),
        k => k.strip_prefix("Fn::"),
    }
}

fn intrinsic(
    name: &str,
    arg: &Yaml,
    ctx: &Context,
    res: &str,
) -> Result<Option<Json>, TemplateError> {
    let text = |v: Option<Json>| -> Result<String, TemplateError> {
        match v {
            Some(Json::String(s)) => Ok(s),
            Some(Json::Number(n)) => Ok(n.to_string()),
            other => Err(unresolved(res, format!("{name} argument {other:?}"))),
        }
    };
    match name {
        "Ref" => {
            let target = arg.as_str().ok_or_else(|| unresolved(res, "Ref"))?;
            if target == "AWS::NoValue" {
                return Ok(None);
            }
            ctx.reference(target)
                .map(|v| Some(Json::String(v)))
                .ok_or_else(|| unresolved(res, format!("!Ref {target}")))
        }
        "GetAtt" => {
            let (logical, attr) = match arg {
                Yaml::String(s) => s
                    .split_once('.')
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .ok_or_else(|| unresolved(res, format!("!GetAtt {s}")))?,
                Yaml::Sequence(parts) if parts.len() == 2 => (
                    text(resolve_opt(&parts[0], ctx, res)?)?,
                    text(resolve_opt(&parts[1], ctx, res)?)?,
                ),
                _ => return Err(unresolved(res, "!GetAtt")),
            };
            ctx.attribute(&logical, &attr)
                .map(|v| Some(Json::String(v)))
                .ok_or_else(|| unresolved(res, format!("!GetAtt {logical}.{attr}")))
        }
        "Sub" => {
            let (template, vars) = match arg {
                Yaml::String(s) => (s.clone(), Map::new()),
                Yaml::Sequence(parts) if parts.len() == 2 => {
                    let template = parts[0].as_str().ok_or_else(|| unresolved(res, "!Sub"))?;
                    let vars = match resolve_opt(&parts[1], ctx, res)? {
                        Some(Json::Object(m)) => m,
                        _ => Map::new(),
                    };
                    (template.to_owned(), vars)
                }
                _ => return Err(unresolved(res, "!Sub")),
            };
            substitute(&template, &vars, ctx, res).map(|s| Some(Json::String(s)))
        }
        "Join" => {
            let parts = arg
                .as_sequence()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| unresolved(res, "!Join"))?;
            let sep = parts[0].as_str().unwrap_or("");
            let items = match resolve_opt(&parts[1], ctx, res)? {
                Some(Json::Array(items)) => items,
                _ => return Err(unresolved(res, "!Join list")),
            };
            let strings: Result<Vec<String>, _> =
                items.into_iter().map(|i| text(Some(i))).collect();
            Ok(Some(Json::String(strings?.join(sep))))
        }
        "Select" => {
            let parts = arg
                .as_sequence()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| unresolved(res, "!Select"))?;
            let index: usize = text(resolve_opt(&parts[0], ctx, res)?)?
                .parse()
                .map_err(|_| unresolved(res, "!Select index"))?;
            match resolve_opt(&parts[1], ctx, res)? {
                Some(Json::Array(items)) => items
                    .get(index)
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| unresolved(res, "!Select out of range")),
                _ => Err(unresolved(res, "!Select list")),
            }
        }
        "Split" => {
            let parts = arg
                .as_sequence()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| unresolved(res, "!Split"))?;
            let sep = parts[0].as_str().unwrap_or("");
            let whole = text(resolve_opt(&parts[1], ctx, res)?)?;
            Ok(Some(json!(whole.split(sep).collect::<Vec<_>>())))
        }
        other => Err(unresolved(
            res,
            format!("the intrinsic {other} (not supported locally)"),
        )),
    }
}

fn substitute(
    template: &str,
    vars: &Map<String, Json>,
    ctx: &Context,
    res: &str,
) -> Result<String, TemplateError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| unresolved(res, "unterminated ${ in !Sub"))?;
        let var = &after[..end];
        if let Some(literal) = var.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else if let Some(v) = vars.get(var) {
            out.push_str(
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
                    .as_str(),
            );
        } else if let Some((logical, attr)) =
            var.split_once('.').filter(|_| !var.starts_with("AWS::"))
        {
            let v = ctx
                .attribute(logical, attr)
                .ok_or_else(|| unresolved(res, format!("${{{var}}}")))?;
            out.push_str(&v);
        } else {
            let v = ctx
                .reference(var)
                .ok_or_else(|| unresolved(res, format!("${{{var}}}")))?;
            out.push_str(&v);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Deep-merges SAM globals under a resource's own properties: maps merge,
/// everything else in the resource wins.
pub fn merge_globals(globals: &Json, own: &Json) -> Json {
    match (globals, own) {
        (Json::Object(g), Json::Object(o)) => {
            let mut merged = g.clone();
            for (k, v) in o {
                let value = match merged.get(k) {
                    Some(gv) => merge_globals(gv, v),
                    None => v.clone(),
                };
                merged.insert(k.clone(), value);
            }
            Json::Object(merged)
        }
        (_, own) if !own.is_null() => own.clone(),
        (g, _) => g.clone(),
    }
}
