CREATE TABLE IF NOT EXISTS store_meta (
	"key" VARCHAR NOT NULL, 
	value VARCHAR NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE IF NOT EXISTS account (
	uuid VARCHAR(32) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	description VARCHAR(2048), 
	type VARCHAR(32) NOT NULL, 
	create_date DATETIME NOT NULL, 
	last_op_date DATETIME NOT NULL, 
	password_sha512 VARCHAR(128) NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_account_name ON account (name);
CREATE TABLE IF NOT EXISTS session (
	uuid VARCHAR(32) NOT NULL, 
	account_uuid VARCHAR(32) NOT NULL, 
	user_uuid VARCHAR(32) NOT NULL, 
	expired_date DATETIME NOT NULL, 
	create_date DATETIME NOT NULL, 
	PRIMARY KEY (uuid)
)
 WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS backup_storage (
	uuid VARCHAR(32) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	url VARCHAR(2048) NOT NULL, 
	description VARCHAR(2048), 
	total_capacity INTEGER NOT NULL, 
	available_capacity INTEGER NOT NULL, 
	type VARCHAR(64) NOT NULL, 
	state VARCHAR(32) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	create_date DATETIME NOT NULL, 
	last_op_date DATETIME NOT NULL, 
	hostname VARCHAR(255) NOT NULL, 
	username VARCHAR(255) NOT NULL, 
	ssh_port INTEGER NOT NULL, 
	attached_zone_uuids VARCHAR NOT NULL, 
	account_uuid VARCHAR(32) NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE INDEX IF NOT EXISTS ix_backup_storage_account_uuid ON backup_storage (account_uuid);
CREATE TABLE IF NOT EXISTS volume_backup (
	uuid VARCHAR(32) NOT NULL, 
	volume_uuid VARCHAR(32), 
	name VARCHAR(255) NOT NULL, 
	description VARCHAR(2048), 
	type VARCHAR(32) NOT NULL, 
	state VARCHAR(32) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	size INTEGER NOT NULL, 
	metadata_json VARCHAR(65535), 
	group_uuid VARCHAR(32), 
	mode VARCHAR(32) NOT NULL, 
	vm_instance_uuid VARCHAR(32), 
	hypervisor_type VARCHAR(32), 
	create_date DATETIME NOT NULL, 
	last_op_date DATETIME NOT NULL, 
	account_uuid VARCHAR(32) NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE INDEX IF NOT EXISTS ix_volume_backup_account_uuid ON volume_backup (account_uuid);
CREATE INDEX IF NOT EXISTS ix_volume_backup_create_date ON volume_backup (create_date);
CREATE TABLE IF NOT EXISTS volume_backup_storage_ref (
	volume_backup_uuid VARCHAR(32) NOT NULL, 
	backup_storage_uuid VARCHAR(32) NOT NULL, 
	install_path VARCHAR(2048) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	create_date DATETIME NOT NULL, 
	last_op_date DATETIME NOT NULL, 
	PRIMARY KEY (volume_backup_uuid, backup_storage_uuid)
)
 WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_volume_backup_storage_ref_backup_storage_uuid ON volume_backup_storage_ref (backup_storage_uuid);
CREATE TABLE IF NOT EXISTS tag_pattern (
	uuid VARCHAR(32) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	value VARCHAR(255) NOT NULL, 
	description VARCHAR(2048), 
	color VARCHAR(32), 
	type VARCHAR(32) NOT NULL, 
	account_uuid VARCHAR(32) NOT NULL, 
	create_date DATETIME NOT NULL, 
	last_op_date DATETIME NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE INDEX IF NOT EXISTS ix_tag_pattern_account_uuid ON tag_pattern (account_uuid);
CREATE TABLE IF NOT EXISTS image (
	uuid VARCHAR(32) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	description VARCHAR(2048), 
	state VARCHAR(32) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	size INTEGER NOT NULL, 
	actual_size INTEGER NOT NULL, 
	md5_sum VARCHAR(255), 
	url VARCHAR(2048), 
	media_type VARCHAR(64) NOT NULL, 
	guest_os_type VARCHAR(255), 
	type VARCHAR(64) NOT NULL, 
	platform VARCHAR(64), 
	architecture VARCHAR(32), 
	format VARCHAR(64) NOT NULL, 
	system BOOLEAN NOT NULL, 
	virtio BOOLEAN, 
	create_date DATETIME NOT NULL, 
	last_op_date DATETIME NOT NULL, 
	account_uuid VARCHAR(32) NOT NULL, 
	PRIMARY KEY (uuid)
)
 WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_image_account_uuid ON image (account_uuid);
CREATE INDEX IF NOT EXISTS ix_image_create_date ON image (create_date);
CREATE INDEX IF NOT EXISTS ix_image_status_platform ON image (status, platform, create_date);
CREATE TABLE IF NOT EXISTS image_backup_storage_ref (
	id INTEGER NOT NULL, 
	image_uuid VARCHAR(32) NOT NULL, 
	backup_storage_uuid VARCHAR(32) NOT NULL, 
	install_path VARCHAR(2048) NOT NULL, 
	export_url VARCHAR(2048), 
	export_md5_sum VARCHAR(255), 
	status VARCHAR(32) NOT NULL, 
	create_date DATETIME NOT NULL, 
	last_op_date DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_image_backup_storage_ref_image_uuid ON image_backup_storage_ref (image_uuid);
CREATE TABLE IF NOT EXISTS image_tag (
	image_uuid VARCHAR(32) NOT NULL, 
	tag_uuid VARCHAR(32) NOT NULL, 
	PRIMARY KEY (image_uuid, tag_uuid)
)
 WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_job (
	uuid VARCHAR(32) NOT NULL, 
	api VARCHAR(128) NOT NULL, 
	protocol VARCHAR(8) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	account_uuid VARCHAR(32), 
	resource_uuid VARCHAR(32), 
	planned_error_json VARCHAR, 
	planned_error_class VARCHAR(255), 
	result_class VARCHAR(255), 
	result_json VARCHAR, 
	json_schema BOOLEAN NOT NULL, 
	webhook_url VARCHAR(2048), 
	api_timeout_ms INTEGER NOT NULL, 
	held BOOLEAN NOT NULL, 
	create_date DATETIME NOT NULL, 
	due_date DATETIME NOT NULL, 
	deadline_date DATETIME NOT NULL, 
	finish_date DATETIME, 
	PRIMARY KEY (uuid)
)
 WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_api_job_status_due_date ON api_job (status, due_date);
CREATE TABLE IF NOT EXISTS webhook_delivery (
	job_uuid VARCHAR(32) NOT NULL, 
	url VARCHAR(2048) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_date DATETIME, 
	last_error VARCHAR, 
	PRIMARY KEY (job_uuid)
)
 WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_webhook_delivery_status_next_date ON webhook_delivery (status, next_date);
CREATE TABLE IF NOT EXISTS journal_entry (
	id INTEGER NOT NULL, 
	create_date DATETIME NOT NULL, 
	method VARCHAR(16) NOT NULL, 
	path VARCHAR(2048) NOT NULL, 
	"query" VARCHAR NOT NULL, 
	headers_json VARCHAR NOT NULL, 
	body VARCHAR NOT NULL, 
	body_size INTEGER NOT NULL, 
	body_truncated BOOLEAN NOT NULL, 
	operation VARCHAR(128), 
	session_uuid VARCHAR(255), 
	status INTEGER, 
	verdict VARCHAR(16), 
	error_code VARCHAR(64), 
	error_details VARCHAR, 
	fault VARCHAR(255), 
	duration_ms FLOAT NOT NULL, 
	job_uuid VARCHAR(255), 
	PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS fault_rule (
	id INTEGER NOT NULL, 
	name VARCHAR(255), 
	spec_json VARCHAR NOT NULL, 
	matched INTEGER NOT NULL, 
	fired INTEGER NOT NULL, 
	spent BOOLEAN NOT NULL, 
	create_date DATETIME NOT NULL, 
	expire_date DATETIME, 
	PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS fault_counter (
	"key" VARCHAR(1024) NOT NULL, 
	count INTEGER NOT NULL, 
	PRIMARY KEY ("key")
)
 WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshot (
	name VARCHAR(255) NOT NULL, 
	create_date DATETIME NOT NULL, 
	payload VARCHAR NOT NULL, 
	PRIMARY KEY (name)
)
 WITHOUT ROWID;
