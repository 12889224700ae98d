//! Turning spec names into Rust names.

/// Rust keywords (2024 edition, strict and reserved).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be written as raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// `createdTimestamp`, `client-uuid`, `x5t#S256`, `IDToken` → `created_timestamp`,
/// `client_uuid`, `x5t_s256`, `id_token`.
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "n_");
    }
    out
}

/// `role_mappings_realm_add` → `RoleMappingsRealmAdd`.
pub fn pascal(snake_name: &str) -> String {
    snake_name
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// What `#[serde(rename_all = "camelCase")]` makes of a field name (serde's own rule).
pub fn serde_camel(field: &str) -> String {
    let field = field.strip_prefix("r#").unwrap_or(field);
    let mut pascal = String::new();
    let mut capitalize = true;
    for ch in field.chars() {
        if ch == '_' {
            capitalize = true;
        } else if capitalize {
            pascal.push(ch.to_ascii_uppercase());
            capitalize = false;
        } else {
            pascal.push(ch);
        }
    }
    match pascal.chars().next() {
        Some(first) => first.to_ascii_lowercase().to_string() + &pascal[first.len_utf8()..],
        None => pascal,
    }
}

/// A snake_case name usable as a field or method: keywords become raw identifiers
/// (`r#type`), or get a trailing `_` when Rust does not allow that (`self_`).
pub fn field_ident(snake_name: &str) -> String {
    if NOT_RAW.contains(&snake_name) {
        format!("{snake_name}_")
    } else if is_keyword(snake_name) {
        format!("r#{snake_name}")
    } else {
        snake_name.to_owned()
    }
}

/// `true` for `lower_snake_case` names that are not keywords.
pub fn is_plain_snake(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.contains("__")
        && !s.ends_with('_')
        && !is_keyword(s)
}

/// `true` for `UpperCamelCase` names.
pub fn is_pascal(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_of_spec_names() {
        assert_eq!(snake("createdTimestamp"), "created_timestamp");
        assert_eq!(snake("client-uuid"), "client_uuid");
        assert_eq!(snake("clientUuid"), "client_uuid");
        assert_eq!(snake("x5t#S256"), "x5t_s256");
        assert_eq!(snake("IDToken"), "id_token");
        assert_eq!(snake("_id"), "id");
        assert_eq!(snake("include-global-policies"), "include_global_policies");
        assert_eq!(
            snake("oAuth2DeviceCodeLifespan"),
            "o_auth2_device_code_lifespan"
        );
        assert_eq!(snake("JWT_SVID"), "jwt_svid");
        assert_eq!(snake("Certificate PEM"), "certificate_pem");
    }

    #[test]
    fn pascal_and_camel() {
        assert_eq!(pascal("role_mappings_realm_add"), "RoleMappingsRealmAdd");
        assert_eq!(pascal("jwt_svid"), "JwtSvid");
        assert_eq!(serde_camel("created_timestamp"), "createdTimestamp");
        assert_eq!(serde_camel("r#type"), "type");
        assert_eq!(serde_camel("x5t_s256"), "x5tS256");
    }

    #[test]
    fn keywords_are_escaped() {
        assert_eq!(field_ident("type"), "r#type");
        assert_eq!(field_ident("self"), "self_");
        assert_eq!(field_ident("name"), "name");
        assert!(is_plain_snake("role_mappings_realm_add"));
        assert!(!is_plain_snake("type"));
        assert!(!is_plain_snake("Get"));
    }
}
