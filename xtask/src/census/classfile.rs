//! A small reader for JVM class files: the constant pool, the class and method headers, runtime
//! visible annotations (class, method and parameter), generic signatures and the few bytecode
//! facts the census needs (classes instantiated with `new`, string constants loaded with `ldc`).
//!
//! Class files are self-delimiting, so [`parse_stream`] can read many of them back to back
//! (the output of `unzip -p some.jar '*.class'`).

use std::collections::BTreeMap;

use anyhow::{Result, bail};

const MAGIC: u32 = 0xCAFE_BABE;
/// The enum of Keycloak's optional features.
const FEATURE: &str = "org/keycloak/common/Profile$Feature";
pub const ACC_INTERFACE: u16 = 0x0200;
pub const ACC_ABSTRACT: u16 = 0x0400;
pub const ACC_SYNTHETIC: u16 = 0x1000;
pub const ACC_BRIDGE: u16 = 0x0040;
pub const ACC_STATIC: u16 = 0x0008;

/// An annotation element value, reduced to what the census reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    /// A numeric/boolean/char constant, kept as text.
    Const(String),
    Enum {
        type_desc: String,
        name: String,
    },
    Class(String),
    Annotation(Annotation),
    Array(Vec<Value>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Field descriptor of the annotation type, e.g. `Ljakarta/ws/rs/Path;`.
    pub type_desc: String,
    pub values: BTreeMap<String, Value>,
}

impl Annotation {
    /// The `value` element as a string, or the first string of an array `value`.
    pub fn str_value(&self) -> Option<&str> {
        match self.values.get("value")? {
            Value::Str(s) => Some(s),
            Value::Array(v) => v.iter().find_map(|x| match x {
                Value::Str(s) => Some(s.as_str()),
                _ => None,
            }),
            _ => None,
        }
    }
}

/// A method call in a body.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Invoke {
    /// Internal name of the class or interface named in the call.
    pub owner: String,
    pub name: String,
    pub descriptor: String,
}

#[derive(Debug, Clone, Default)]
pub struct Method {
    pub access: u16,
    pub name: String,
    pub descriptor: String,
    pub signature: Option<String>,
    pub annotations: Vec<Annotation>,
    pub param_annotations: Vec<Vec<Annotation>>,
    /// Whether the method has a body (not abstract or native).
    pub has_code: bool,
    /// Internal names of classes created with `new` in the body.
    pub news: Vec<String>,
    /// String constants loaded with `ldc`/`ldc_w` in the body.
    pub strings: Vec<String>,
    /// Class constants loaded with `ldc`/`ldc_w` (`Foo.class` in the source).
    pub class_constants: Vec<String>,
    /// The methods the body invokes.
    pub invoked: Vec<Invoke>,
    /// Keycloak features the body reads (`Profile.Feature.X`, by constant name).
    pub features: Vec<String>,
}

impl Method {
    /// The return type's descriptor (after the closing parenthesis).
    pub fn return_desc(&self) -> &str {
        self.descriptor
            .rfind(')')
            .map_or("", |i| &self.descriptor[i + 1..])
    }

    /// The parameter part of the descriptor, e.g. `(Ljava/lang/String;)`.
    pub fn params_desc(&self) -> &str {
        self.descriptor
            .rfind(')')
            .map_or(self.descriptor.as_str(), |i| &self.descriptor[..=i])
    }
}

#[derive(Debug, Clone, Default)]
pub struct Class {
    pub access: u16,
    /// Internal name, e.g. `org/keycloak/services/resources/admin/AdminRoot`.
    pub name: String,
    pub super_name: Option<String>,
    pub interfaces: Vec<String>,
    pub annotations: Vec<Annotation>,
    pub methods: Vec<Method>,
}

impl Class {
    pub fn is_abstract(&self) -> bool {
        self.access & (ACC_ABSTRACT | ACC_INTERFACE) != 0
    }
}

#[derive(Clone)]
enum Entry {
    Unused,
    Utf8(String),
    Class(u16),
    Str(u16),
    /// Field or method reference: the owner class's entry and the name-and-type entry.
    Ref(u16, u16),
    NameAndType(u16, u16),
    Number(String),
    Other,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let Some(end) = self.pos.checked_add(n).filter(|&e| e <= self.data.len()) else {
            bail!("class file truncated at byte {}", self.pos);
        };
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u1(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u2(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u4(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

struct Pool(Vec<Entry>);

impl Pool {
    fn utf8(&self, i: u16) -> Result<&str> {
        match self.0.get(usize::from(i)) {
            Some(Entry::Utf8(s)) => Ok(s),
            _ => bail!("constant pool entry {i} is not a UTF-8 string"),
        }
    }
    fn class(&self, i: u16) -> Result<&str> {
        match self.0.get(usize::from(i)) {
            Some(Entry::Class(n)) => self.utf8(*n),
            _ => bail!("constant pool entry {i} is not a class"),
        }
    }
    /// A method or field reference (a field's descriptor is its type).
    fn method_ref(&self, i: u16) -> Option<Invoke> {
        let Some(Entry::Ref(c, nat)) = self.0.get(usize::from(i)) else {
            return None;
        };
        let Some(Entry::NameAndType(n, d)) = self.0.get(usize::from(*nat)) else {
            return None;
        };
        Some(Invoke {
            owner: self.class(*c).ok()?.to_string(),
            name: self.utf8(*n).ok()?.to_string(),
            descriptor: self.utf8(*d).ok()?.to_string(),
        })
    }
    fn string(&self, i: u16) -> Option<&str> {
        match self.0.get(usize::from(i)) {
            Some(Entry::Str(n)) => self.utf8(*n).ok(),
            _ => None,
        }
    }
    fn constant(&self, i: u16) -> Result<String> {
        match self.0.get(usize::from(i)) {
            Some(Entry::Number(s)) => Ok(s.clone()),
            Some(Entry::Utf8(s)) => Ok(s.clone()),
            _ => bail!("constant pool entry {i} is not a constant"),
        }
    }
}

/// Parses every class file in `data` (one or more, back to back).
pub fn parse_stream(data: &[u8]) -> Result<Vec<Class>> {
    let mut r = Reader { data, pos: 0 };
    let mut out = Vec::new();
    while r.pos < data.len() {
        let start = r.pos;
        match parse_one(&mut r) {
            Ok(c) => out.push(c),
            Err(e) => bail!("class file at byte {start}: {e:#}"),
        }
    }
    Ok(out)
}

/// Parses one class file.
#[cfg(test)]
pub fn parse(data: &[u8]) -> Result<Class> {
    let mut r = Reader { data, pos: 0 };
    let c = parse_one(&mut r)?;
    if r.pos != data.len() {
        bail!(
            "{} bytes after the end of the class file",
            data.len() - r.pos
        );
    }
    Ok(c)
}

fn parse_one(r: &mut Reader) -> Result<Class> {
    if r.u4()? != MAGIC {
        bail!("not a class file (bad magic)");
    }
    r.take(4)?; // minor, major
    let pool = read_pool(r)?;
    let access = r.u2()?;
    let name = pool.class(r.u2()?)?.to_string();
    let super_index = r.u2()?;
    let super_name = match super_index {
        0 => None,
        i => Some(pool.class(i)?.to_string()),
    };
    let mut interfaces = Vec::new();
    for _ in 0..r.u2()? {
        interfaces.push(pool.class(r.u2()?)?.to_string());
    }
    for _ in 0..r.u2()? {
        r.take(6)?; // access, name, descriptor
        skip_attributes(r)?;
    }
    let mut methods = Vec::new();
    for _ in 0..r.u2()? {
        methods.push(read_method(r, &pool)?);
    }
    let mut annotations = Vec::new();
    for _ in 0..r.u2()? {
        let attr = pool.utf8(r.u2()?)?;
        let len = r.u4()? as usize;
        let body = r.take(len)?;
        if attr == "RuntimeVisibleAnnotations" {
            annotations = read_annotation_list(&mut Reader { data: body, pos: 0 }, &pool)?;
        }
    }
    Ok(Class {
        access,
        name,
        super_name,
        interfaces,
        annotations,
        methods,
    })
}

fn read_pool(r: &mut Reader) -> Result<Pool> {
    let count = usize::from(r.u2()?);
    let mut entries = vec![Entry::Unused; count.max(1)];
    let mut i = 1;
    while i < count {
        let tag = r.u1()?;
        let (entry, slots) = match tag {
            1 => {
                let len = usize::from(r.u2()?);
                (Entry::Utf8(decode_mutf8(r.take(len)?)), 1)
            }
            3 => (
                Entry::Number(i32::from_be_bytes(arr4(r.take(4)?)).to_string()),
                1,
            ),
            4 => (
                Entry::Number(f32::from_bits(u32::from_be_bytes(arr4(r.take(4)?))).to_string()),
                1,
            ),
            5 | 6 => {
                let b = r.take(8)?;
                let v = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                let text = if tag == 5 {
                    (v as i64).to_string()
                } else {
                    f64::from_bits(v).to_string()
                };
                (Entry::Number(text), 2)
            }
            7 => (Entry::Class(r.u2()?), 1),
            8 => (Entry::Str(r.u2()?), 1),
            16 | 19 | 20 => {
                r.take(2)?;
                (Entry::Other, 1)
            }
            15 => {
                r.take(3)?;
                (Entry::Other, 1)
            }
            9..=11 => (Entry::Ref(r.u2()?, r.u2()?), 1),
            12 => (Entry::NameAndType(r.u2()?, r.u2()?), 1),
            17 | 18 => {
                r.take(4)?;
                (Entry::Other, 1)
            }
            t => bail!("unknown constant pool tag {t} at entry {i}"),
        };
        entries[i] = entry;
        i += slots;
    }
    Ok(Pool(entries))
}

fn arr4(b: &[u8]) -> [u8; 4] {
    [b[0], b[1], b[2], b[3]]
}

/// Modified UTF-8 as plain UTF-8 (identifiers and paths are ASCII in practice; anything else is
/// decoded lossily, which is enough for names).
fn decode_mutf8(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

fn skip_attributes(r: &mut Reader) -> Result<()> {
    for _ in 0..r.u2()? {
        r.take(2)?;
        let len = r.u4()? as usize;
        r.take(len)?;
    }
    Ok(())
}

fn read_method(r: &mut Reader, pool: &Pool) -> Result<Method> {
    let access = r.u2()?;
    let mut m = Method {
        access,
        name: pool.utf8(r.u2()?)?.to_string(),
        descriptor: pool.utf8(r.u2()?)?.to_string(),
        ..Method::default()
    };
    for _ in 0..r.u2()? {
        let attr = pool.utf8(r.u2()?)?;
        let len = r.u4()? as usize;
        let mut body = Reader {
            data: r.take(len)?,
            pos: 0,
        };
        match attr {
            "RuntimeVisibleAnnotations" => m.annotations = read_annotation_list(&mut body, pool)?,
            "RuntimeVisibleParameterAnnotations" => {
                for _ in 0..body.u1()? {
                    m.param_annotations
                        .push(read_annotation_list(&mut body, pool)?);
                }
            }
            "Signature" => m.signature = Some(pool.utf8(body.u2()?)?.to_string()),
            "Code" => {
                m.has_code = true;
                read_code(&mut body, pool, &mut m)?;
            }
            _ => {}
        }
    }
    Ok(m)
}

fn read_annotation_list(r: &mut Reader, pool: &Pool) -> Result<Vec<Annotation>> {
    let n = r.u2()?;
    (0..n).map(|_| read_annotation(r, pool)).collect()
}

fn read_annotation(r: &mut Reader, pool: &Pool) -> Result<Annotation> {
    let type_desc = pool.utf8(r.u2()?)?.to_string();
    let mut values = BTreeMap::new();
    for _ in 0..r.u2()? {
        let name = pool.utf8(r.u2()?)?.to_string();
        values.insert(name, read_value(r, pool)?);
    }
    Ok(Annotation { type_desc, values })
}

fn read_value(r: &mut Reader, pool: &Pool) -> Result<Value> {
    let tag = r.u1()?;
    Ok(match tag {
        b's' => Value::Str(pool.utf8(r.u2()?)?.to_string()),
        b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' => {
            Value::Const(pool.constant(r.u2()?)?)
        }
        b'e' => Value::Enum {
            type_desc: pool.utf8(r.u2()?)?.to_string(),
            name: pool.utf8(r.u2()?)?.to_string(),
        },
        b'c' => Value::Class(pool.utf8(r.u2()?)?.to_string()),
        b'@' => Value::Annotation(read_annotation(r, pool)?),
        b'[' => {
            let n = r.u2()?;
            Value::Array((0..n).map(|_| read_value(r, pool)).collect::<Result<_>>()?)
        }
        t => bail!("unknown annotation element tag {t}"),
    })
}

fn read_code(r: &mut Reader, pool: &Pool, m: &mut Method) -> Result<()> {
    r.take(4)?; // max_stack, max_locals
    let len = r.u4()? as usize;
    let code = r.take(len)?;
    scan_bytecode(code, pool, m)
    // exception table and code attributes are not needed
}

/// Walks the instructions, collecting `new` targets and `ldc` strings.
fn scan_bytecode(code: &[u8], pool: &Pool, m: &mut Method) -> Result<()> {
    let mut pc = 0usize;
    while pc < code.len() {
        let op = code[pc];
        let idx2 = || -> Option<u16> {
            Some(u16::from_be_bytes([*code.get(pc + 1)?, *code.get(pc + 2)?]))
        };
        match op {
            0xbb => {
                if let Some(Ok(c)) = idx2().map(|i| pool.class(i)) {
                    m.news.push(c.to_string());
                }
            }
            0x12 | 0x13 => {
                let i = if op == 0x12 {
                    code.get(pc + 1).map(|&i| u16::from(i))
                } else {
                    idx2()
                };
                if let Some(i) = i {
                    if let Some(s) = pool.string(i) {
                        m.strings.push(s.to_string());
                    } else if let Ok(c) = pool.class(i) {
                        m.class_constants.push(c.to_string());
                    }
                }
            }
            0xb2 => {
                if let Some(field) = idx2().and_then(|i| pool.method_ref(i))
                    && field.owner == FEATURE
                {
                    m.features.push(field.name);
                }
            }
            0xb6..=0xb9 => {
                if let Some(call) = idx2().and_then(|i| pool.method_ref(i)) {
                    m.invoked.push(call);
                }
            }
            _ => {}
        }
        pc += instruction_len(code, pc)?;
    }
    Ok(())
}

/// Length in bytes of the instruction at `pc`.
fn instruction_len(code: &[u8], pc: usize) -> Result<usize> {
    let op = code[pc];
    let word = |at: usize| -> Result<i64> {
        match code.get(at..at + 4) {
            Some(b) => Ok(i64::from(i32::from_be_bytes(arr4(b)))),
            None => bail!("truncated switch at {pc}"),
        }
    };
    Ok(match op {
        0x10 | 0x12 | 0x15..=0x19 | 0x36..=0x3a | 0xa9 | 0xbc => 2,
        0x11
        | 0x13
        | 0x14
        | 0x84
        | 0x99..=0xa8
        | 0xb2..=0xb8
        | 0xbb
        | 0xbd
        | 0xc0
        | 0xc1
        | 0xc6
        | 0xc7 => 3,
        0xc5 => 4,
        0xb9 | 0xba | 0xc8 | 0xc9 => 5,
        0xc4 => {
            if code.get(pc + 1) == Some(&0x84) {
                6
            } else {
                4
            }
        }
        0xaa => {
            let base = pc + 1 + (3 - pc % 4);
            let (low, high) = (word(base + 4)?, word(base + 8)?);
            let n = usize::try_from(high - low + 1).unwrap_or(0);
            base + 12 + 4 * n - pc
        }
        0xab => {
            let base = pc + 1 + (3 - pc % 4);
            let n = usize::try_from(word(base + 4)?).unwrap_or(0);
            base + 8 + 8 * n - pc
        }
        _ => 1,
    })
}
