package auth_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The docs show code only where compiled, tested code says the same: every
// ```go block in README.md and docs/*.md must be an excerpt of an Example
// function in a *_test.go file, or of a Go file under examples/. Shell
// blocks are not checked.

// docBlock is one fenced ```go block of a Markdown file.
type docBlock struct {
	file  string // as given to docGoBlocks
	line  int    // of the opening fence, 1-based
	lines []string
}

// docFiles returns README.md and docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md"}, files...)
}

// docGoBlocks returns the ```go blocks of a Markdown text. Fences may be
// indented (inside a list); a fence of another language is skipped whole.
func docGoBlocks(file, text string) []docBlock {
	var blocks []docBlock
	var cur *docBlock
	inOther := false
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur != nil:
			if trimmed == "```" {
				blocks = append(blocks, *cur)
				cur = nil
			} else {
				cur.lines = append(cur.lines, line)
			}
		case inOther:
			if trimmed == "```" {
				inOther = false
			}
		case trimmed == "```go":
			cur = &docBlock{file: file, line: i + 1}
		case strings.HasPrefix(trimmed, "```"):
			inOther = true
		}
	}
	return blocks
}

// normalizeLines collapses the white space inside each line and drops blank
// lines, so that indentation (tabs or spaces) and spacing do not matter but
// every token does.
func normalizeLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if n := strings.Join(strings.Fields(l), " "); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// codeSource is a piece of compiled code a doc block may quote.
type codeSource struct {
	name  string // file and, for an Example, the function
	lines []string
}

// codeSources returns every Example function of every *_test.go file in
// the repository (nested modules included) and every Go file under
// examples/.
func codeSources(t *testing.T) []codeSource {
	t.Helper()
	var sources []codeSource
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		slash := filepath.ToSlash(path)
		if strings.HasPrefix(slash, "examples/") {
			sources = append(sources, codeSource{name: slash, lines: normalizeLines(strings.Split(string(src), "\n"))})
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !strings.HasPrefix(fd.Name.Name, "Example") {
				continue
			}
			body := string(src[fset.Position(fd.Pos()).Offset:fset.Position(fd.End()).Offset])
			sources = append(sources, codeSource{
				name:  slash + ": " + fd.Name.Name,
				lines: normalizeLines(strings.Split(body, "\n")),
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sources
}

// excerptOf reports whether want is a run of consecutive lines of src.
// Otherwise it returns how many leading lines of want the best candidate
// run matched, to point at the first line that drifted.
func excerptOf(want, src []string) (ok bool, matched int) {
	if len(want) == 0 {
		return false, 0
	}
	for i := range src {
		n := 0
		for n < len(want) && i+n < len(src) && src[i+n] == want[n] {
			n++
		}
		if n == len(want) {
			return true, n
		}
		matched = max(matched, n)
	}
	return false, matched
}

// TestDocsGoBlocksAreTestedCode fails when a ```go block in the docs is not
// a verbatim excerpt (up to white space) of compiled, tested code.
func TestDocsGoBlocksAreTestedCode(t *testing.T) {
	sources := codeSources(t)
	if len(sources) == 0 {
		t.Fatal("found no Example functions and no files under examples/")
	}
	total := 0
	for _, file := range docFiles(t) {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range docGoBlocks(file, string(text)) {
			total++
			want := normalizeLines(b.lines)
			if len(want) == 0 {
				t.Errorf("%s:%d: empty ```go block", b.file, b.line)
				continue
			}
			found, best, bestName := false, 0, ""
			for _, src := range sources {
				ok, n := excerptOf(want, src.lines)
				if ok {
					found = true
					break
				}
				if n > best {
					best, bestName = n, src.name
				}
			}
			if found {
				continue
			}
			msg := fmt.Sprintf("%s:%d: the ```go block starting %q is not an excerpt of an Example function in a *_test.go file or of a file under examples/",
				b.file, b.line, want[0])
			if best > 0 {
				msg += fmt.Sprintf("; closest is %s, which matches %d line(s), then differs at %q", bestName, best, want[best])
			}
			t.Error(msg)
		}
	}
	if total == 0 {
		t.Error("README.md and docs/*.md have no ```go block; the README's \"In your application\" should have one")
	}
}

// TestDocsExcerptMatching checks the matcher itself, so that the test
// above cannot pass by accepting anything.
func TestDocsExcerptMatching(t *testing.T) {
	src := normalizeLines(strings.Split("func Example() {\n\ta, err := auth.New(store)\n\n\tif err != nil {\n\t\tlog.Fatal(err)\n\t}\n}\n", "\n"))
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"exact", "a, err := auth.New(store)\nif err != nil {\n\tlog.Fatal(err)\n}", true},
		{"other indentation and a blank line", "    a, err :=  auth.New(store)\n\n  if err != nil {", true},
		{"a changed token", "a, err := auth.New(otherStore)\nif err != nil {", false},
		{"lines out of order", "if err != nil {\na, err := auth.New(store)", false},
		{"lines skipped", "a, err := auth.New(store)\nlog.Fatal(err)", false},
		{"runs past the end", "}\n}\nreturn", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := excerptOf(normalizeLines(strings.Split(tc.doc, "\n")), src)
			if got != tc.want {
				t.Errorf("excerptOf = %v, want %v", got, tc.want)
			}
		})
	}
	blocks := docGoBlocks("x.md", "text\n```sh\ngo test ./...\n```\n  ```go\n  a := 1\n  ```\n```\nplain\n```\n")
	if len(blocks) != 1 || len(blocks[0].lines) != 1 || blocks[0].line != 5 {
		t.Errorf("docGoBlocks found %+v, want one block of one line at line 5", blocks)
	}
}

// mdLink matches an inline Markdown link or image target.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// headingAnchor returns GitHub's anchor for a Markdown heading.
func headingAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchorsOf returns the heading anchors of a Markdown file, skipping code
// blocks.
func anchorsOf(t *testing.T, file string) map[string]bool {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	anchors := map[string]bool{}
	inCode := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
			continue
		}
		if !inCode && strings.HasPrefix(line, "#") {
			anchors[headingAnchor(strings.TrimSpace(strings.TrimLeft(line, "#")))] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return anchors
}

// TestDocsLinks fails on a relative link in README.md or docs/*.md whose
// file, or whose heading in a Markdown file, does not exist.
func TestDocsLinks(t *testing.T) {
	for _, file := range docFiles(t) {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		inCode := false
		for i, line := range strings.Split(string(text), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inCode = !inCode
				continue
			}
			if inCode {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				resolved := file
				if path != "" {
					resolved = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
				}
				if _, err := os.Stat(resolved); err != nil {
					t.Errorf("%s:%d: link %q: %s does not exist", file, i+1, target, resolved)
					continue
				}
				if anchor != "" && strings.HasSuffix(resolved, ".md") && !anchorsOf(t, resolved)[anchor] {
					t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", file, i+1, target, resolved, anchor)
				}
			}
		}
	}
}

// TestDocsREADMESize keeps the README a page a newcomer reads to the end;
// the detail lives in docs/.
func TestDocsREADMESize(t *testing.T) {
	info, err := os.Stat("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > 12<<10 {
		t.Errorf("README.md is %d bytes; keep it at most %d and move detail into docs/", info.Size(), 12<<10)
	}
}
