/* cJSON -> YAML through libyaml's emitter.
 *
 * libyaml writes what it is given and decides only whether a scalar can be
 * plain; it does not know which plain scalars a reader would resolve to
 * numbers, booleans or null. We do: a JSON string that would read back as
 * anything but a string is double-quoted, so `"31"` stays a string while
 * the number 31 stays a number. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "cmd/therm/output.h"
#include "internal/lib/err.h"

/* Words that YAML 1.1 (PyYAML, yaml.v2) or 1.2 resolve to bool/null. */
static bool yaml_special_word(const char *s)
{
	static const char *const words[] = {
	    "y",   "yes",  "n", "no",	"true",	 "false", "on",
	    "off", "null", "~", ".inf", "-.inf", "+.inf", ".nan",
	};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		if (strcasecmp(s, words[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* Number-like: ints, floats, hex/octal, dates and sexagesimal times all
 * start with a sign, a digit or a dot and use few other characters. */
static bool yaml_numberish(const char *s)
{
	bool digit = false;
	if (!(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' ||
	      s[0] == '.')) {
		return false;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p)) {
			digit = true;
		} else if (strchr("+-._:eExXoObBaAcCdDfFtTzZ ", *p) == NULL) {
			return false;
		}
	}
	return digit;
}

static yaml_scalar_style_t yaml_string_style(const char *s)
{
	if (strchr(s, '\n') != NULL) {
		return YAML_LITERAL_SCALAR_STYLE;
	}
	if (s[0] == '\0' || yaml_special_word(s) || yaml_numberish(s)) {
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	}
	return YAML_ANY_SCALAR_STYLE;
}

static int yaml_write_handler(void *data, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, data) == size;
}

static bool yaml_scalar(yaml_emitter_t *em, const char *text,
			yaml_scalar_style_t style)
{
	yaml_event_t ev;
	return yaml_scalar_event_initialize(&ev, NULL, NULL,
					    (yaml_char_t *)text,
					    (int)strlen(text), 1, 1, style) &&
	       yaml_emitter_emit(em, &ev);
}

static bool yaml_value(yaml_emitter_t *em, const cJSON *v, int depth)
{
	const cJSON *item;
	yaml_event_t ev;
	char buf[32];

	if (depth > 64) {
		return false;
	}
	if (cJSON_IsObject(v)) {
		if (!yaml_mapping_start_event_initialize(
			&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(em, &ev)) {
			return false;
		}
		cJSON_ArrayForEach(item, v)
		{
			if (!yaml_scalar(em, item->string,
					 yaml_string_style(item->string)) ||
			    !yaml_value(em, item, depth + 1)) {
				return false;
			}
		}
		return yaml_mapping_end_event_initialize(&ev) &&
		       yaml_emitter_emit(em, &ev);
	}
	if (cJSON_IsArray(v)) {
		if (!yaml_sequence_start_event_initialize(
			&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev)) {
			return false;
		}
		cJSON_ArrayForEach(item, v)
		{
			if (!yaml_value(em, item, depth + 1)) {
				return false;
			}
		}
		return yaml_sequence_end_event_initialize(&ev) &&
		       yaml_emitter_emit(em, &ev);
	}
	if (cJSON_IsString(v)) {
		return yaml_scalar(em, v->valuestring,
				   yaml_string_style(v->valuestring));
	}
	if (cJSON_IsNumber(v)) {
		return yaml_scalar(em, therm_number_text(v->valuedouble, buf),
				   YAML_PLAIN_SCALAR_STYLE);
	}
	if (cJSON_IsRaw(v)) {
		/* Exact numbers (SQL results) are raw JSON literals. */
		return yaml_scalar(em, v->valuestring, YAML_PLAIN_SCALAR_STYLE);
	}
	if (cJSON_IsBool(v)) {
		return yaml_scalar(em, cJSON_IsTrue(v) ? "true" : "false",
				   YAML_PLAIN_SCALAR_STYLE);
	}
	return yaml_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
}

static bool yaml_document(yaml_emitter_t *em, const cJSON *value)
{
	yaml_event_t ev;
	return yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	       yaml_emitter_emit(em, &ev) &&
	       yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	       yaml_emitter_emit(em, &ev) && yaml_value(em, value, 0) &&
	       yaml_document_end_event_initialize(&ev, 1) &&
	       yaml_emitter_emit(em, &ev) &&
	       yaml_stream_end_event_initialize(&ev) &&
	       yaml_emitter_emit(em, &ev) && yaml_emitter_flush(em);
}

int therm_yaml_write(FILE *out, const cJSON *value, char *errmsg)
{
	yaml_emitter_t em;
	int rv = 0;

	if (!yaml_emitter_initialize(&em)) {
		tm_errmsg_printf(errmsg, "yaml: cannot initialise emitter");
		return TM_NOMEM;
	}
	yaml_emitter_set_output(&em, yaml_write_handler, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	if (!yaml_document(&em, value)) {
		tm_errmsg_printf(errmsg, "yaml: %s",
				 em.problem != NULL ? em.problem
						    : "cannot write output");
		rv = TM_IO;
	}
	yaml_emitter_delete(&em);
	return rv;
}
