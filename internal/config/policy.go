package config

// policy is a job's policy key: plan.Policy with the names the file gives
// its fields. What each one means, its default and its range are the
// planner's (plan.Policy, WithDefaults, Validate). The two structs have the
// same fields in the same order, so the conversion in jobFile.job stops
// compiling when one gains a field the other lacks.
type policy struct {
	Leavers              string   `yaml:"leavers"`
	Scope                string   `yaml:"scope"`
	ProtectedUsers       []string `yaml:"protected_users"`
	ProtectedDepartments []string `yaml:"protected_departments"`
	TagsScope            string   `yaml:"tags_scope"`
	ProtectedTags        []string `yaml:"protected_tags"`
	MaxDeleteRatio       float64  `yaml:"max_delete_ratio"`
	MaxDeleteCount       int      `yaml:"max_delete_count"`
	MaxRejectRatio       float64  `yaml:"max_reject_ratio"`
	MaxRejectCount       int      `yaml:"max_reject_count"`
}
