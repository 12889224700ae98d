//! Tests of the class-file reader and the JAX-RS walk: a hand-assembled class (no JDK needed)
//! and classes compiled with the JDK's `javac` (the project's set-up installs a JDK).

use std::path::Path;
use std::process::Command;

use super::classfile::{self, Value};
use super::jars::Classes;
use super::jaxrs::{Walk, join};

fn u2(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn utf8(out: &mut Vec<u8>, s: &str) {
    out.push(1);
    u2(out, s.len() as u16);
    out.extend_from_slice(s.as_bytes());
}

/// `@Path("/x") public class A`, assembled by hand.
fn tiny_class() -> Vec<u8> {
    let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 61];
    u2(&mut b, 9); // constant pool count (entries 1..=8)
    utf8(&mut b, "A"); // 1
    b.extend_from_slice(&[7, 0, 1]); // 2: Class A
    utf8(&mut b, "java/lang/Object"); // 3
    b.extend_from_slice(&[7, 0, 3]); // 4: Class Object
    utf8(&mut b, "RuntimeVisibleAnnotations"); // 5
    utf8(&mut b, "Ljakarta/ws/rs/Path;"); // 6
    utf8(&mut b, "value"); // 7
    utf8(&mut b, "/x"); // 8
    u2(&mut b, 0x0001); // public
    u2(&mut b, 2);
    u2(&mut b, 4);
    u2(&mut b, 0); // interfaces
    u2(&mut b, 0); // fields
    u2(&mut b, 0); // methods
    u2(&mut b, 1); // attributes
    u2(&mut b, 5);
    b.extend_from_slice(&11u32.to_be_bytes());
    u2(&mut b, 1); // one annotation
    u2(&mut b, 6);
    u2(&mut b, 1); // one element
    u2(&mut b, 7);
    b.push(b's');
    u2(&mut b, 8);
    b
}

#[test]
fn reads_a_hand_made_class() {
    let c = classfile::parse(&tiny_class()).unwrap();
    assert_eq!(c.name, "A");
    assert_eq!(c.super_name.as_deref(), Some("java/lang/Object"));
    assert_eq!(c.annotations.len(), 1);
    assert_eq!(c.annotations[0].type_desc, "Ljakarta/ws/rs/Path;");
    assert_eq!(c.annotations[0].str_value(), Some("/x"));
}

#[test]
fn reads_classes_back_to_back_and_rejects_garbage() {
    let mut two = tiny_class();
    two.extend(tiny_class());
    assert_eq!(classfile::parse_stream(&two).unwrap().len(), 2);

    let mut truncated = tiny_class();
    truncated.truncate(truncated.len() - 3);
    let err = classfile::parse_stream(&truncated).unwrap_err();
    assert!(format!("{err:#}").contains("truncated"), "{err:#}");
    assert!(classfile::parse(b"not a class").is_err());
    let mut trailing = tiny_class();
    trailing.push(0);
    assert!(classfile::parse(&trailing).is_err());
}

#[test]
fn joins_paths_like_jax_rs() {
    assert_eq!(join("", "/admin"), "/admin");
    assert_eq!(join("/admin", "realms/"), "/admin/realms");
    assert_eq!(join("/a", "{id : [0-9]+}/x"), "/a/{id}/x");
    assert_eq!(join("/a", "{any:.*}"), "/a/{any}");
    assert_eq!(join("/a", ""), "/a");
    assert_eq!(join("", "/"), "/");
}

const ANNOTATIONS: &[(&str, &str)] = &[
    ("Path", "String value();"),
    ("PathParam", "String value();"),
    ("GET", ""),
    ("POST", ""),
];

const ROOT: &str = r#"package t;
import jakarta.ws.rs.*;
@Path("/root")
public class Root {
    @GET @Path("items/{id: [0-9]+}")
    public String item(@PathParam("id") String id) { return "item"; }
    @Path("sub")
    public Object sub(int k) {
        switch (k) {
            case 1: return new Sub();
            case 2: return new Sub();
            case 3: return "three";
            default: break;
        }
        switch (k) {
            case 10: return null;
            case 1000: return null;
            default: return new Sub();
        }
    }
    @Path("typed")
    public Sub typed() { return new Sub(); }
    public long big() { return 1234567890123L; }
}
"#;

const SUB: &str = r#"package t;
import jakarta.ws.rs.*;
public class Sub {
    @POST public void create() {}
    @GET @Path("{x}") public String get(@PathParam("x") String x) { return x; }
}
"#;

/// Compiles the stand-in JAX-RS annotations and `sources` (`(path, text)`) with `javac`; returns
/// the class files of `sources`, back to back, in the given order.
fn compile(tag: &str, sources: &[(&str, &str)]) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("census-javac-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.join("src");
    let rs = src.join("jakarta/ws/rs");
    std::fs::create_dir_all(&rs).unwrap();
    let mut files = Vec::new();
    for (name, body) in ANNOTATIONS {
        let f = rs.join(format!("{name}.java"));
        std::fs::write(
            &f,
            format!(
                "package jakarta.ws.rs;\n@java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)\npublic @interface {name} {{ {body} }}\n"
            ),
        )
        .unwrap();
        files.push(f);
    }
    for (path, body) in sources {
        let f = src.join(path);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, body).unwrap();
        files.push(f);
    }
    let out = dir.join("classes");
    let status = Command::new("javac")
        .arg("-d")
        .arg(&out)
        .args(&files)
        .status()
        .expect("`javac` (a JDK) is needed for this test: install openjdk-17-jdk-headless");
    assert!(status.success(), "javac failed");
    let mut bytes = Vec::new();
    for (path, _) in sources {
        let class = Path::new(path).with_extension("class");
        bytes.extend(std::fs::read(out.join(class)).unwrap());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    bytes
}

fn class_set(bytes: &[u8]) -> Classes {
    let classes = classfile::parse_stream(bytes).unwrap();
    let classes_read = classes.len();
    Classes {
        by_name: classes
            .into_iter()
            .map(|c| (c.name.clone(), (c, "test.jar".to_string())))
            .collect(),
        jars_read: 1,
        classes_read,
    }
}

fn served(walk: &Walk) -> Vec<String> {
    walk.served
        .iter()
        .map(|s| format!("{} {} {}", s.method, s.path, s.source))
        .collect()
}

#[test]
fn reads_javac_output_and_walks_it() {
    let bytes = compile("walk", &[("t/Root.java", ROOT), ("t/Sub.java", SUB)]);
    let classes = classfile::parse_stream(&bytes).unwrap();
    assert_eq!(classes.len(), 2);

    let root = &classes[0];
    assert_eq!(root.name, "t/Root");
    assert_eq!(root.annotations[0].str_value(), Some("/root"));
    let item = root.methods.iter().find(|m| m.name == "item").unwrap();
    assert_eq!(item.descriptor, "(Ljava/lang/String;)Ljava/lang/String;");
    assert_eq!(item.return_desc(), "Ljava/lang/String;");
    let types: Vec<&str> = item
        .annotations
        .iter()
        .map(|a| a.type_desc.as_str())
        .collect();
    assert_eq!(types, ["Ljakarta/ws/rs/GET;", "Ljakarta/ws/rs/Path;"]);
    assert_eq!(
        item.annotations[1].values.get("value"),
        Some(&Value::Str("items/{id: [0-9]+}".into()))
    );
    assert_eq!(item.param_annotations[0][0].str_value(), Some("id"));
    // Both switch forms were stepped over: the `new` after them was seen, and the strings.
    let sub = root.methods.iter().find(|m| m.name == "sub").unwrap();
    assert_eq!(sub.news, ["t/Sub", "t/Sub", "t/Sub"]);
    assert_eq!(sub.strings, ["three"]);
    assert!(sub.has_code);

    let set = class_set(&bytes);
    let mut walk = Walk::new(&set);
    assert_eq!(walk.roots(), [("t/Root".to_string(), "/root".to_string())]);
    walk.walk("t/Root", "/root");
    assert_eq!(
        served(&walk),
        [
            "GET /root/items/{id} t.Root#item",
            "GET /root/sub/{x} t.Sub#get",
            "GET /root/typed/{x} t.Sub#get",
            "POST /root/sub t.Sub#create",
            "POST /root/typed t.Sub#create",
        ]
    );
    assert!(walk.unresolved.is_empty());
}

const SPI: &str =
    "package org.keycloak.t;\npublic interface ExtProvider { Object getResource(); }\n";
const SPI_FACTORY: &str = "package org.keycloak.t;\npublic interface ExtProviderFactory { String getId(); ExtProvider create(); }\n";
const FACTORY: &str = r#"package org.keycloak.t;
public class HelloFactory implements ExtProviderFactory {
    public String getId() { return "hello"; }
    public ExtProvider create() { return new HelloProvider(); }
}
"#;
const PROVIDER: &str = r#"package org.keycloak.t;
public class HelloProvider implements ExtProvider {
    public Object getResource() { return new Hello(); }
}
"#;
const HELLO: &str = r#"package org.keycloak.t;
import jakarta.ws.rs.*;
public class Hello {
    @GET public String hi() { return "hi"; }
}
"#;
const BASE: &str = r#"package org.keycloak.t;
import jakarta.ws.rs.*;
@Path("/r")
public class Base {
    @Path("{ext}")
    public Object ext(@PathParam("ext") String id) { return lookup(ExtProvider.class, id); }
    private Object lookup(Class<?> spi, String id) { return null; }
    @Path("self")
    public Object self() { return make(); }
    protected Object make() { return null; }
    @Path("nowhere")
    public Object nowhere() { return null; }
}
"#;
const DERIVED: &str = r#"package org.keycloak.t;
public class Derived extends Base {
    @Override protected Object make() { return new Hello(); }
}
"#;

#[test]
fn follows_provider_spis_and_calls_on_the_walked_class() {
    let bytes = compile(
        "spi",
        &[
            ("org/keycloak/t/ExtProvider.java", SPI),
            ("org/keycloak/t/ExtProviderFactory.java", SPI_FACTORY),
            ("org/keycloak/t/HelloFactory.java", FACTORY),
            ("org/keycloak/t/HelloProvider.java", PROVIDER),
            ("org/keycloak/t/Hello.java", HELLO),
            ("org/keycloak/t/Base.java", BASE),
            ("org/keycloak/t/Derived.java", DERIVED),
        ],
    );
    let set = class_set(&bytes);
    let mut walk = Walk::new(&set);
    // A class-level `@Path` is not inherited from a superclass.
    assert_eq!(
        walk.roots(),
        [("org/keycloak/t/Base".to_string(), "/r".to_string())]
    );
    // `Derived` inherits the locators; `make()` dispatches to its override.
    walk.walk("org/keycloak/t/Derived", "/r");
    assert_eq!(
        served(&walk),
        [
            "GET /r/hello org.keycloak.t.Hello#hi",
            "GET /r/self org.keycloak.t.Hello#hi",
        ]
    );
    let unresolved: Vec<&str> = walk.unresolved.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(unresolved, ["/r/nowhere"]);
}
