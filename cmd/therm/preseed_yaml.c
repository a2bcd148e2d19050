/* YAML -> cJSON through libyaml's document loader, for preseed files. */
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "cmd/therm/cli.h"
#include "cmd/therm/preseed.h"
#include "internal/lib/err.h"

/* Bounds against alias bombs and deep nesting. */
#define YAML_MAX_NODES 10000
#define YAML_MAX_DEPTH 32

struct yaml_conv {
	yaml_document_t *doc;
	size_t nodes;
	char *errmsg;
};

static int conv_fail(struct yaml_conv *c, const yaml_node_t *node,
		     const char *what)
{
	snprintf(c->errmsg, THERM_ERRMSG_SIZE, "line %lu: %s",
		 (unsigned long)node->start_mark.line + 1, what);
	return TM_INVALID;
}

static cJSON *conv_scalar(const yaml_node_t *node)
{
	const char *v = (const char *)node->data.scalar.value;
	if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (strcmp(v, "true") == 0) {
			return cJSON_CreateTrue();
		}
		if (strcmp(v, "false") == 0) {
			return cJSON_CreateFalse();
		}
		if (v[0] == '\0' || strcmp(v, "null") == 0 ||
		    strcmp(v, "~") == 0) {
			return cJSON_CreateNull();
		}
	}
	return cJSON_CreateString(v);
}

static int conv_node(struct yaml_conv *c, yaml_node_t *node, int depth,
		     cJSON **out);

static int conv_mapping(struct yaml_conv *c, yaml_node_t *node, int depth,
			cJSON *obj)
{
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
	     p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *value = yaml_document_get_node(c->doc, p->value);
		const char *name;
		cJSON *item;
		int rv;

		if (key == NULL || key->type != YAML_SCALAR_NODE) {
			return conv_fail(c, node,
					 "a mapping key must be a "
					 "plain word");
		}
		name = (const char *)key->data.scalar.value;
		if (cJSON_GetObjectItemCaseSensitive(obj, name) != NULL) {
			char what[160];
			snprintf(what, sizeof what, "\"%.64s\" given twice",
				 name);
			return conv_fail(c, key, what);
		}
		rv = conv_node(c, value, depth + 1, &item);
		if (rv != 0) {
			return rv;
		}
		cJSON_AddItemToObject(obj, name, item);
	}
	return 0;
}

static int conv_node(struct yaml_conv *c, yaml_node_t *node, int depth,
		     cJSON **out)
{
	int rv = 0;

	*out = NULL;
	if (node == NULL) {
		*out = cJSON_CreateNull();
		return 0;
	}
	if (++c->nodes > YAML_MAX_NODES || depth > YAML_MAX_DEPTH) {
		return conv_fail(c, node, "document too large or too deep");
	}
	switch (node->type) {
	case YAML_SCALAR_NODE:
		*out = conv_scalar(node);
		return 0;
	case YAML_SEQUENCE_NODE:
		*out = cJSON_CreateArray();
		for (yaml_node_item_t *i = node->data.sequence.items.start;
		     i < node->data.sequence.items.top && rv == 0; i++) {
			cJSON *item;
			rv = conv_node(c, yaml_document_get_node(c->doc, *i),
				       depth + 1, &item);
			if (rv == 0) {
				cJSON_AddItemToArray(*out, item);
			}
		}
		break;
	case YAML_MAPPING_NODE:
		*out = cJSON_CreateObject();
		rv = conv_mapping(c, node, depth, *out);
		break;
	default:
		return conv_fail(c, node, "empty node");
	}
	if (rv != 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rv;
}

int therm_yaml_to_json(const char *text, size_t len, cJSON **out, char *errmsg)
{
	struct yaml_conv c = {.errmsg = errmsg};
	yaml_parser_t parser;
	yaml_document_t doc;
	int rv;

	*out = NULL;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(errmsg, THERM_ERRMSG_SIZE, "out of memory");
		return TM_INVALID;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(errmsg, THERM_ERRMSG_SIZE, "line %lu: %s",
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem != NULL ? parser.problem
						: "invalid YAML");
		yaml_parser_delete(&parser);
		return TM_INVALID;
	}
	c.doc = &doc;
	rv = conv_node(&c, yaml_document_get_root_node(&doc), 0, out);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rv;
}
