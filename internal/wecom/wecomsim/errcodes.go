package wecomsim

// errTexts are the English errmsg heads. Where a capture exists (§0 of the
// reference) the text is production's; the rest are paraphrases in the
// same terse style. None may ever include caller input.
var errTexts = map[int]string{
	-1:     "system busy",
	404:    "emulator: unknown api path",
	6000:   "data version conflict",
	40001:  "invalid credential",
	40003:  "invalid userid",
	40004:  "invalid media type",
	40005:  "invalid type",
	40006:  "invalid file size",
	40007:  "invalid media_id",
	40013:  "invalid corpid",
	40014:  "invalid access_token",
	40031:  "invalid userid list",
	40032:  "invalid userid list size",
	40033:  "invalid charset. please check your request, if include \\uxxxx will create fail!",
	40058:  "invalid Request Parameter",
	40066:  "invalid department list",
	41001:  "access_token missing",
	41002:  "corpid missing",
	41004:  "corpsecret missing",
	41009:  "missing userid",
	41019:  "missing department",
	42001:  "access_token expired",
	44001:  "empty media data",
	45001:  "media size out of limit",
	45009:  "api freq out of limit",
	45029:  "response size out of limit",
	45033:  "api concurrent out of limit",
	48002:  "api forbidden",
	48009:  "api forbidden for new ip of contact sync",
	50100:  "invalid cursor",
	60001:  "department name size invalid",
	60003:  "department not found",
	60004:  "parent department not found",
	60005:  "department contains user",
	60006:  "department contains sub-department",
	60007:  "not allow to delete root department",
	60008:  "department existed",
	60009:  "department name contains illegal character",
	60010:  "department exists in loop",
	60011:  "no privilege to access/modify contact/party/agent",
	60020:  "not allow to access from your ip",
	60102:  "userid existed",
	60103:  "mobile invalid",
	60104:  "mobile existed",
	60105:  "email invalid",
	60106:  "email existed",
	60110:  "user department size exceed limit",
	60111:  "userid not found",
	60112:  "user name invalid",
	60123:  "invalid party id",
	60127:  "missing department",
	60129:  "mobile and email can not be both empty",
	60132:  "is_leader_in_dept size invalid",
	60143:  "invalid biz_mail",
	60145:  "biz_mail existed",
	60257:  "direct leader size exceed limit",
	301005: "not allow to delete creator",
	301012: "invalid position",
	301013: "invalid telephone",
	301036: "userid can not be changed",
}

func errText(code int) string {
	if t, ok := errTexts[code]; ok {
		return t
	}
	return "error"
}
