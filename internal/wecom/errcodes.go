package wecom

// Errcodes the importer decides on, named so that a reader of a switch
// need not look them up; ClassifyCode gives each its class. The meanings
// follow WeCom's global errcode page (developer.work.weixin.qq.com,
// document path 90313).
const (
	CodeSystemBusy        = -1    // 系统繁忙: retry
	CodeVersionConflict   = 6000  // concurrent modification: retry
	CodeInvalidCredential = 40001 // wrong or reset secret (gettoken); invalid token elsewhere
	CodeInvalidCorpID     = 40013
	CodeInvalidToken      = 40014 // also answered for an expired token
	CodeInvalidUserList   = 40031 // deltagusers: every entry invalid
	CodeListTooLong       = 40032 // batchdelete of more than 200
	CodeIllegalChars      = 40033 // \uXXXX escapes in the body
	CodeInvalidParameter  = 40035
	CodeInvalidTagID      = 40068 // tag not found (also a missing tagid)
	CodeTagAllInvalid     = 40070 // addtagusers: every entry invalid
	CodeTagNameTaken      = 40071 // another tag of the corp has the name
	CodeTagNameLength     = 40072 // tag name empty or over 32 characters
	CodeTagLimit          = 40126 // the corp's 3000 tags
	CodeTokenMissing      = 41001
	CodeCorpIDMissing     = 41002
	CodeSecretMissing     = 41004
	CodeTagIDMissing      = 41017
	CodeTagNameMissing    = 41018
	CodeTokenExpired      = 42001
	CodeRateLimited       = 45009 // api freq out of limit: wait for the window
	CodeSeatLimit         = 45024
	CodeConcurrency       = 45033 // per-API concurrency limit: retry
	CodeAPIForbidden      = 48002 // API not allowed for this secret (e.g. read-only sync)
	CodeGrantForbidden    = 48008
	CodeNewIPNoDetails    = 48009 // contacts-sync secret may not read details from a new IP
	CodeOutOfRange        = 50002
	CodeDeptNotFound      = 60003
	CodeDeptHasMembers    = 60005
	CodeDeptHasChildren   = 60006
	CodeDeptExists        = 60008 // the id, or the name among siblings
	CodeNoPrivilege       = 60011
	CodeUntrustedIP       = 60020
	CodeNotVisible        = 60021
	CodeUserExists        = 60102 // userid, case-insensitively
	CodeMobileTaken       = 60104
	CodeEmailTaken        = 60106
	CodeUserNotFound      = 60111
	CodeBizMailTaken      = 60145
	CodeTagFull           = 81003 // 30000 members and departments in one tag
	CodeTagNotOwned       = 81011 // the tag belongs to another app
	CodeTagListTooLong    = 81014 // over 1000 userids or 100 departments a call
)
