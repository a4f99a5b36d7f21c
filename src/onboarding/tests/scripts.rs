//! The quoting of each kind of script, undone by that kind's rules: every way a script may hold
//! the package is written here and read back.

use serde_json::{json, Value};

use super::super::shapes::Lines;
use super::super::{parse, python, shell, Shape};
use super::{blob, outer, plist, us_standard, xml_escape, ORG};
use crate::catalog::Geo;

/// A body whose fields hold every character the wrappings escape: `\`, `"`, `'`, `$`, `` ` ``,
/// `&`, `<`, `{` and a line break.
fn awkward() -> Value {
    json!({
        "orgId": ORG,
        "partnerGeoLocation": "GW_UK",
        "geoLocationUrl": "https://edr-uks.uk.endpoint.security.microsoft.com/edr/",
        "deviceType": "a \\ b \" c ' d $HOME e `id` f & g < h {{ i }}\n j",
    })
}

/// The tenant of `text`, which must be read as `shape`.
fn read_as(text: &str, file: &str, shape: Shape) -> Geo {
    let tenant = parse(text.as_bytes(), file).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(tenant.shape, shape, "{text}");
    tenant.geo
}

/// `text` escaped for a non-raw Python literal quoted with `quote` on one line.
fn py_escaped(text: &str, quote: char) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\n' => out.push_str(r"\n"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[test]
fn python_literals_of_every_quote_style_are_decoded() {
    let body = awkward();
    let json = outer(&blob(&body));
    let compact = json!({ "onboardingInfo": blob(&body) }).to_string();
    let (head, tail) = compact.split_at(compact.len() / 2);
    let literals = [
        format!("'''{}'''", py_escaped(&json, '\'')),
        format!("\"\"\"{}\"\"\"", py_escaped(&json, '"')),
        format!("'{}'", py_escaped(&compact, '\'')),
        format!("\"{}\"", py_escaped(&compact, '"')),
        format!("u\"{}\"", py_escaped(&compact, '"')),
        format!("b'{}'", py_escaped(&compact, '\'')),
        // raw: the text as it is
        format!("r'''{json}'''"),
        // hex, unicode and octal escapes for the quotes
        format!(
            "'{}'",
            py_escaped(&compact, '\'')
                .replacen('"', r"\x22", 3)
                .replacen('"', r"\u0022", 3)
                .replacen('"', r"\042", 3)
        ),
        // literals side by side in brackets are one
        format!(
            "(\n    \"{}\"  # first half\n    '{}'\n)",
            py_escaped(head, '"'),
            py_escaped(tail, '\'')
        ),
        // a backslash at the end of a line continues the literal
        format!("'{}\\\n{}'", py_escaped(head, '\''), py_escaped(tail, '\'')),
    ];
    for literal in literals {
        let script = format!("import json\n# {{\"onboardingInfo\" in a comment\nDATA = {literal}\nopen('f', 'w').write(DATA)\n");
        assert_eq!(read_as(&script, "a.py", Shape::LinuxScript), Geo::Uk);
    }
}

#[test]
fn python_literals_are_found_with_their_lines() {
    let source = "x = 1 # 'no'\ny = b'a\\x41' 'b' \\\n  'c'\nz = f'{{}}' + \"\"\"one\ntwo\"\"\"\nq = 'open\n";
    let found: Vec<(String, usize)> = python::literals(source)
        .into_iter()
        .map(|l| (l.text, l.line))
        .collect();
    assert_eq!(
        found,
        [
            ("aAbc".to_string(), 2),
            ("{}".to_string(), 4),
            ("one\ntwo".to_string(), 4),
            ("open".to_string(), 6),
        ]
    );
}

/// `text` in double quotes for the shell.
fn sh_double(text: &str) -> String {
    let escaped = text
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('$', r"\$")
        .replace('`', r"\`");
    format!("\"{escaped}\"")
}

/// `text` in single quotes for the shell.
fn sh_single(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[test]
fn shell_quotes_and_heredocs_are_undone() {
    let body = awkward();
    let info = blob(&body);
    let list = plist(&info);
    let tabbed: String = list.lines().map(|l| format!("\t\t{l}\n")).collect();
    let (head, tail) = info.split_at(info.len() / 2);
    let ansi_c = info
        .replace('\\', r"\\")
        .replace('\'', r"\'")
        .replacen('"', r"\x22", 2);
    let scripts = [
        format!("cat <<'EOF' > out.plist\n{list}EOF\n"),
        format!("cat << \"EOF\" > out.plist\n{list}EOF\n"),
        format!("cat <<\\EOF > out.plist\n{list}EOF\n"),
        format!("if true; then\n\tcat <<-'EOF' > out.plist\n{tabbed}\t\tEOF\nfi\n"),
        format!(
            "defaults write /Library/Preferences/com.microsoft.wdav.atp OnboardingInfo {}\n",
            sh_single(&info)
        ),
        format!("INFO={}\necho \"$INFO\"\n", sh_double(&info)),
        format!("mdatp config --value={}\n", sh_double(&info)),
        format!("printf '%s' $'{ansi_c}'\n"),
        // one word of a single-quoted and a double-quoted part
        format!("echo {}{}\n", sh_single(head), sh_double(tail)),
    ];
    for script in scripts {
        let script = format!(
            "#!/bin/sh\n# don't run: {{\"body\" is below\nset -e\n{script}echo done # it's over\n"
        );
        assert_eq!(read_as(&script, "a.sh", Shape::MacScript), Geo::Uk);
    }
}

#[test]
fn the_macos_script_as_the_portal_writes_it_is_read() {
    // the portal leaves the property list as it is in a heredoc whose delimiter is not quoted:
    // the `\"` of the blob reach the file unchanged, as the shell leaves them
    let info = blob(&us_standard());
    let list = plist(&info).replace("&quot;", "\"");
    assert!(
        list.contains(r#"{"body":"{\"datacenter\":\"CentralUs\""#),
        "{list}"
    );
    let script = format!("#!/bin/bash\ncat <<EOM > \"$DESTFILE\"\n{list}EOM\n");
    assert_eq!(read_as(&script, "a.sh", Shape::MacScript), Geo::Us);
}

#[test]
fn shell_words_and_heredocs_are_found_with_their_lines() {
    let source = "a=1 # 'no'\necho x'y'\"z\\$\" \\'q\ncat <<A <<-'B'; echo 'after'\n$x \\$y\nA\n\t$z\n\tB\necho \"end";
    let found: Vec<(String, usize)> = shell::literals(source)
        .into_iter()
        .map(|l| (l.text, l.line))
        .collect();
    assert_eq!(
        found,
        [
            ("xyz$".to_string(), 2),
            ("after".to_string(), 3),
            ("$x $y\n".to_string(), 4),
            ("$z\n".to_string(), 6),
            ("end".to_string(), 8),
        ]
    );
}

#[test]
fn property_list_entities_of_every_form_are_decoded() {
    let info = blob(&awkward());
    let numeric = xml_escape(&info)
        .replacen("&quot;", "&#34;", 4)
        .replacen("&quot;", "&#x22;", 4);
    // as the portal writes it: quotes left raw, only `&` and `<` escaped
    let raw_quotes = info.replace('&', "&amp;").replace('<', "&lt;");
    for string in [numeric, raw_quotes, format!("<![CDATA[{info}]]>")] {
        let list = format!(
            "<?xml version=\"1.0\"?>\n<plist version=\"1.0\">\n<dict>\n<key>OnboardingInfo</key>\n<string>{string}</string>\n</dict>\n</plist>\n"
        );
        assert_eq!(read_as(&list, "a.plist", Shape::MdmPlist), Geo::Uk);
    }
}

#[test]
fn windows_command_lines_are_split_as_reg_exe_splits_them() {
    let info = blob(&awkward());
    let value = info.replace('\\', r"\\").replace('"', "\\\"");
    for line in [
        format!("REG add \"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat Protection\" /v OnboardingInfo /t REG_SZ /f /d \"{value}\""),
        format!("%windir%\\System32\\reg.exe add \"HKLM\\SOFTWARE\" /f /d \"{value}\" /t REG_SZ /V onboardinginfo >nul"),
    ] {
        let script = format!("@echo off\r\nREM onboarding\r\n{line}\r\nexit /b 0\r\n");
        assert_eq!(read_as(&script, "a.cmd", Shape::WindowsScript), Geo::Uk);
    }
    let args: Vec<String> =
        super::super::shapes::command_args(r#"a "b c" d\"e "f\\\"g" h\\i "j""k" "open"#)
            .into_iter()
            .map(|a| format!("{}{}", a.text, if a.closed { "" } else { "…" }))
            .collect();
    assert_eq!(
        args,
        ["a", "b c", "d\"e", "f\\\"g", "h\\\\i", "j\"k", "open…"]
    );
}

#[test]
fn lines_are_counted_forward() {
    let text = b"a\nb\nc";
    let mut lines = Lines::default();
    assert_eq!(lines.at(text, 0), 1);
    assert_eq!(lines.at(text, 2), 2);
    assert_eq!(lines.at(text, 4), 3);
    assert_eq!(lines.at(text, 99), 3);
}
