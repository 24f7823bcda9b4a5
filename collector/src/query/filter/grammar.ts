/**
 * The peggy grammar of Sluice's flow filter: nfdump's filter syntax (see nfdump(1),
 * "filter") plus Kibana-style `field:value` terms. Embedded as a string so the build
 * needs no extra step; `parse.ts` turns it into a parser once, at module load.
 *
 * Precedence, loosest first: `or` (`||`), `and` (`&&`), `not` (`!`); parentheses group.
 * Like an empty filter, empty parentheses match everything: a dashboard that writes
 * `(${filter}) and ...` keeps working when its filter box is cleared.
 * Keywords are case-insensitive. `#` starts a comment that runs to the end of the line.
 * The actions build the nodes of `ast.ts`; values keep their text and offset, and are
 * validated by the compiler (so errors can say what the value should have been).
 */
export const GRAMMAR: string = String.raw`
Filter
  = _ e:Or? _ { return e ?? { type: 'any' }; }

Or
  = head:And tail:(_ OrOp _ @And)* { return tail.length === 0 ? head : { type: 'or', items: [head, ...tail] }; }

And
  = head:Not tail:(_ AndOp _ @Not)* { return tail.length === 0 ? head : { type: 'and', items: [head, ...tail] }; }

Not
  = NotOp _ e:Not { return { type: 'not', expr: e }; }
  / Primary

Primary
  = "(" _ e:Or? _ ")" { return e ?? { type: 'any' }; }
  / Primitive

OrOp '"or"'
  = "or"i !W / "||"

AndOp '"and"'
  = "and"i !W / "&&"

NotOp '"not"'
  = "not"i !W / "!" !"="

Primitive
  = FieldTerm
  / "any"i !W { return { type: 'any' }; }
  / ("inet6"i / "ipv6"i) !W { return { type: 'inet6' }; }
  / ("inet"i / "ipv4"i) !W { return { type: 'inet' }; }
  / Directed
  / Interface
  / Counter
  / "proto"i !W _ value:Protocol { return { type: 'proto', value }; }
  / "vlan"i !W _ value:Number { return { type: 'vlan', value }; }
  / "flags"i !W _ value:TcpFlags { return { type: 'flags', value }; }
  / "duration"i !W _ op:(@Comparison _)? value:Number { return { type: 'duration', op: op ?? 'eq', value }; }
  / ("exporter"i !W / "router"i !W _ "ip"i !W) _ value:Address { return { type: 'exporter', value }; }

Directed
  = dir:DirPrefix? node:(IpTerm / NetTerm / PortTerm / AsTerm) { return { ...node, dir: dir ?? 'either' }; }

DirPrefix
  = d:$("src"i / "dst"i) !W _ { return d.toLowerCase(); }

IpTerm
  = ("ip"i / "host"i) !W _ "in"i !W _ "[" _ values:AddressList _ "]" { return { type: 'ip', values }; }
  / ("ip"i / "host"i) !W _ value:Address { return { type: 'ip', values: [value] }; }

NetTerm
  = "net"i !W _ value:Address mask:(__ @Netmask)? { return mask ? { type: 'net', value, mask } : { type: 'net', value }; }

PortTerm
  = "port"i !W _ match:NumberMatch { return { type: 'port', match }; }

AsTerm
  = "as"i !W _ match:NumberMatch { return { type: 'as', match }; }

Interface
  = side:InOut? "if"i !W _ value:Number { return { type: 'if', side: side ?? 'either', value }; }

Counter
  = side:InOut? kind:$("bytes"i / "packets"i) !W _ op:(@Comparison _)? value:Number
    { return { type: kind.toLowerCase(), side: side ?? 'total', op: op ?? 'eq', value }; }

InOut
  = d:$("in"i / "out"i) !W _ { return d.toLowerCase(); }

NumberMatch
  = "in"i !W _ "[" _ values:NumberList _ "]" { return { op: 'in', values }; }
  / op:(@Comparison _)? value:Number { return { op: op ?? 'eq', value }; }

Comparison "comparison operator"
  = ">=" { return 'ge'; }
  / "<=" { return 'le'; }
  / "==" { return 'eq'; }
  / "!=" { return 'ne'; }
  / "=" { return 'eq'; }
  / ">" { return 'gt'; }
  / "<" { return 'lt'; }
  / op:$("eq"i / "ne"i / "gt"i / "lt"i / "ge"i / "le"i) !W { return op.toLowerCase(); }

NumberList
  = head:Number tail:(ListSep @Number)* { return [head, ...tail]; }

AddressList
  = head:Address tail:(ListSep @Address)* { return [head, ...tail]; }

ListSep
  = _ "," _ / __

Number "number"
  = $("0x"i [0-9a-fA-F]+ / [0-9]+ [kKmMgGtT]?) !W { return { text: text(), offset: location().start.offset }; }

Address "IP address"
  = Word

Netmask "netmask"
  = $([0-9]+ "." [0-9]+ "." [0-9]+ "." [0-9]+) !WordChar { return { text: text(), offset: location().start.offset }; }

Protocol "protocol"
  = Word

TcpFlags "TCP flags"
  = Word

Word
  = $WordChar+ { return { text: text(), offset: location().start.offset }; }

WordChar
  = [^ \t\r\n()[\],"'#&|!=<>]

FieldTerm
  = field:FieldStart Blank rest:FieldValue { return { ...rest, field }; }

FieldStart "field:value"
  = @FieldName ":"

FieldName
  = $([A-Za-z_@] [A-Za-z0-9_.@]*) { return { text: text(), offset: location().start.offset }; }

FieldValue
  = "*" !BareChar { return { type: 'exists' }; }
  / op:FieldRange Blank value:(Quoted / Bare) { return { type: 'field', op, value }; }
  / value:(Quoted / Bare) { return { type: 'field', op: 'eq', value }; }

FieldRange
  = ">=" { return 'ge'; }
  / "<=" { return 'le'; }
  / ">" { return 'gt'; }
  / "<" { return 'lt'; }

Quoted
  = DqOpen chars:DqBody DqClose { return { text: chars.join(''), offset: location().start.offset }; }
  / SqOpen chars:SqBody SqClose { return { text: chars.join(''), offset: location().start.offset }; }

DqOpen "quoted string"
  = '"'

SqOpen "quoted string"
  = "'"

DqBody "string"
  = (Escaped / [^"\\])*

SqBody "string"
  = (Escaped / [^'\\])*

DqClose "closing \""
  = '"'

SqClose "closing '"
  = "'"

Escaped
  = "\\" @.

Bare "value"
  = $(![<>] BareChar BareChar*) { return { text: text(), offset: location().start.offset }; }

BareChar
  = !"&&" !"||" [^ \t\r\n()"']

W
  = [A-Za-z0-9_]

Blank "whitespace"
  = [ \t]*

_ "whitespace"
  = ([ \t\r\n]+ / "#" [^\n]*)*

__ "whitespace"
  = ([ \t\r\n]+ / "#" [^\n]*)+
`;
